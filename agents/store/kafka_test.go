package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/agents/store/storetest"
	"github.com/faasflow/faasflow-go/internal/services"
)

// kafkaBrokers returns the test brokers, or skips the test.
func kafkaBrokers(t testing.TB) []string { return services.Kafka(t) }

// kafkaOwner returns an owner ID unique to this test run.
func kafkaOwner(name string) string {
	return fmt.Sprintf("test-%s-%d", name, time.Now().UnixNano())
}

// newKafka returns a Kafka store of owner, closed when the test ends.
func newKafka(t testing.TB, owner string) *store.Kafka {
	t.Helper()
	k, err := store.NewKafka(store.KafkaConfig{Brokers: kafkaBrokers(t), Owner: owner})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

// cleanupKafkaOwner deletes owner's topics when the test ends, with a store
// of its own (the test's stores may be closed by then).
func cleanupKafkaOwner(t testing.TB, owner string) {
	t.Helper()
	brokers := kafkaBrokers(t)
	t.Cleanup(func() {
		k, err := store.NewKafka(store.KafkaConfig{Brokers: brokers, Owner: owner})
		if err != nil {
			t.Error(err)
			return
		}
		defer k.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := k.Cleanup(ctx); err != nil {
			t.Errorf("cleanup of owner %s: %v", owner, err)
		}
	})
}

// listKafkaTopics lists the broker's topics with a plain kafka-go connection.
func listKafkaTopics(t testing.TB) map[string]bool {
	t.Helper()
	conn, err := kafka.Dial("tcp", kafkaBrokers(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	parts, err := conn.ReadPartitions()
	if err != nil {
		t.Fatal(err)
	}
	topics := map[string]bool{}
	for _, p := range parts {
		topics[p.Topic] = true
	}
	return topics
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func TestKafkaContract(t *testing.T) {
	owner := kafkaOwner("contract")
	cleanupKafkaOwner(t, owner)
	storetest.Run(t, func(t *testing.T) store.Store {
		k, err := store.NewKafka(store.KafkaConfig{Brokers: kafkaBrokers(t), Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		return k
	}, storetest.Options{ReleaseKeepsValue: true})
}

// slowReader yields a value in small pieces with pauses, like a function
// still producing its output.
type slowReader struct {
	data    []byte
	piece   int
	pause   time.Duration
	drained atomic.Bool
	fail    error // returned instead of io.EOF, if set
}

func (s *slowReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		s.drained.Store(true)
		if s.fail != nil {
			return 0, s.fail
		}
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	n := copy(p[:min(len(p), s.piece)], s.data)
	s.data = s.data[n:]
	return n, nil
}

func TestKafkaPutAsyncStreamsToReader(t *testing.T) {
	owner := kafkaOwner("async")
	cleanupKafkaOwner(t, owner)
	k := newKafka(t, owner)
	ctx := testCtx(t)
	inv := storetest.Invocation(t, "async")

	// 5 chunks and a bit, in 32 KiB pieces every 10 ms: about 400 ms.
	want := storetest.Pattern(5*store.ChunkSize+1234, 9)
	src := &slowReader{data: want, piece: 32 << 10, pause: 10 * time.Millisecond}
	key, done, err := k.PutAsync(ctx, inv, 1, src)
	if err != nil {
		t.Fatal(err)
	}
	if src.drained.Load() {
		t.Fatal("PutAsync returned the key only after draining its source")
	}
	// The consumer, on another worker, opens the key right away and reads
	// the first chunk while the rest is still being produced; then it waits
	// for the chunks still being written.
	consumer := newKafka(t, kafkaOwner("consumer"))
	rc, err := consumer.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, store.ChunkSize)
	if _, err := io.ReadFull(rc, got); err != nil {
		t.Fatalf("read the first chunk: %v", err)
	}
	if src.drained.Load() {
		t.Fatal("the first chunk was readable only after the source was drained")
	}
	rest, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatalf("read while writing: %v", err)
	}
	got = append(got, rest...)
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes while writing, want the %d written", len(got), len(want))
	}
	if err := <-done; err != nil {
		t.Fatalf("background write: %v", err)
	}
	if !src.drained.Load() {
		t.Fatal("source not drained after done")
	}
	// A value ending exactly at a chunk boundary, not known to be over
	// when its first chunk goes out.
	want = storetest.Pattern(store.ChunkSize, 10)
	src = &slowReader{data: want, piece: 64 << 10, pause: time.Millisecond}
	key, done, err = k.PutAsync(ctx, inv, 1, src)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, err := store.ReadAll(ctx, k, key); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("value of one full chunk: read %d bytes, err %v", len(got), err)
	}
}

func TestKafkaPutAsyncSourceFailure(t *testing.T) {
	owner := kafkaOwner("asyncfail")
	cleanupKafkaOwner(t, owner)
	k := newKafka(t, owner)
	ctx := testCtx(t)
	inv := storetest.Invocation(t, "fail")

	boom := errors.New("function crashed")
	src := &slowReader{data: storetest.Pattern(3*store.ChunkSize, 1), piece: 64 << 10, pause: time.Millisecond, fail: boom}
	key, done, err := k.PutAsync(ctx, inv, 1, src)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, rerr := store.ReadAll(ctx, k, key)
	if err := <-done; !errors.Is(err, boom) {
		t.Fatalf("done = %v, want the source's error", err)
	}
	if rerr == nil || !strings.Contains(rerr.Error(), "function crashed") {
		t.Fatalf("reader of a failed value: err = %v, want the producer's failure", rerr)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("reader took %v to learn the producer failed", d)
	}
	if _, err := k.Put(ctx, inv, 1, src); err == nil {
		t.Fatal("Put of a failing source succeeded")
	}
}

func TestKafkaDropInvocationDeletesTopic(t *testing.T) {
	owner := kafkaOwner("drop")
	cleanupKafkaOwner(t, owner)
	k := newKafka(t, owner)
	ctx := testCtx(t)
	inv := storetest.Invocation(t, "drop")

	var keys []string
	for i := 0; i < 3; i++ {
		key, err := k.Put(ctx, inv, 1, bytes.NewReader(storetest.Pattern(store.ChunkSize+i, byte(i))))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	topic := k.Topic(inv)
	if !listKafkaTopics(t)[topic] {
		t.Fatalf("topic %s not created", topic)
	}
	// Another worker reads a value before the drop (and so knows the
	// topic's leader).
	other := newKafka(t, kafkaOwner("reader"))
	if _, err := store.ReadAll(ctx, other, keys[0]); err != nil {
		t.Fatal(err)
	}
	if err := k.DropInvocation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if listKafkaTopics(t)[topic] {
		t.Fatalf("topic %s still listed after DropInvocation", topic)
	}
	// The other worker finds nothing either, at once.
	for _, key := range keys {
		start := time.Now()
		if _, err := other.Open(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("open %s after drop: err = %v, want ErrNotFound", key, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("open of a dropped key took %v", d)
		}
	}
	// Looking for it did not create it again (the broker auto-creates
	// topics for clients that ask).
	if listKafkaTopics(t)[topic] {
		t.Fatalf("topic %s came back after reads of its keys", topic)
	}
}

func TestKafkaCleanup(t *testing.T) {
	owner, neighbour := kafkaOwner("cleanup"), kafkaOwner("cleanupx")
	cleanupKafkaOwner(t, owner)
	cleanupKafkaOwner(t, neighbour)
	ctx := testCtx(t)

	// A worker writes to a few invocations, then crashes.
	crashed := newKafka(t, owner)
	var keys []string
	for i := 0; i < 3; i++ {
		key, err := crashed.Put(ctx, storetest.Invocation(t, fmt.Sprint("inv", i)), 1, strings.NewReader("left over"))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	other := newKafka(t, neighbour)
	kept, err := other.Put(ctx, storetest.Invocation(t, "other"), 1, strings.NewReader("not mine"))
	if err != nil {
		t.Fatal(err)
	}
	if topics, err := crashed.Topics(ctx); err != nil || len(topics) != 3 {
		t.Fatalf("before cleanup: topics %v, err %v; want 3", topics, err)
	}

	// Restarted, it deletes all of its topics.
	restarted := newKafka(t, owner)
	if err := restarted.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
	prefix := strings.TrimSuffix(restarted.Topic("x"), "x")
	for name := range listKafkaTopics(t) {
		if strings.HasPrefix(name, prefix) {
			t.Fatalf("topic %s of owner %s left after Cleanup", name, owner)
		}
	}
	for _, key := range keys {
		if _, err := other.Open(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("open %s after cleanup: err = %v, want ErrNotFound", key, err)
		}
	}
	if got, err := store.ReadAll(ctx, other, kept); err != nil || string(got) != "not mine" {
		t.Fatalf("another owner's value after cleanup: %q, %v", got, err)
	}
	// Nothing left: a second cleanup is a no-op.
	if err := restarted.Cleanup(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestKafkaTopicNames(t *testing.T) {
	k, err := store.NewKafka(store.KafkaConfig{Brokers: []string{"127.0.0.1:1"}, Owner: "worker_1.a"})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	seen := map[string]string{}
	for _, inv := range []string{
		"inv-1", "inv_1", "inv.1", "inv/1", "INV-1", strings.Repeat("x", 300), strings.Repeat("x", 301), "é",
	} {
		topic := k.Topic(inv)
		if len(topic) > 249 {
			t.Errorf("topic of %q is %d bytes long", inv, len(topic))
		}
		for _, c := range topic {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
				t.Errorf("topic %q of %q has %q", topic, inv, c)
			}
		}
		if strings.Count(topic, ".") != 2 || !strings.HasPrefix(topic, "faasflow.") {
			t.Errorf("topic %q of %q is not faasflow.<owner>.<invocation>", topic, inv)
		}
		if prev, ok := seen[topic]; ok {
			t.Errorf("invocations %q and %q share topic %q", prev, inv, topic)
		}
		seen[topic] = inv
	}
	if got := k.Topic("inv-1"); got != "faasflow."+strings.Split(got, ".")[1]+".inv-1" {
		t.Errorf("a plain invocation ID changed: %q", got)
	}
}

// TestKafkaUnreachable: with no broker, or one that never answers,
// operations fail within their timeouts with an error naming the broker, and
// never report ErrNotFound.
func TestKafkaUnreachable(t *testing.T) {
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close() // nothing listens there now
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		var conns []net.Conn // accepted, never answered
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	for _, tc := range []struct{ name, addr string }{
		{"refused", closed.Addr().String()},
		{"silent", silent.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := store.NewKafka(store.KafkaConfig{Brokers: []string{tc.addr}, Owner: "nobody",
				DialTimeout: 500 * time.Millisecond, RequestTimeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			defer k.Close()
			ctx := testCtx(t)
			check := func(op string, start time.Time, err error) {
				t.Helper()
				if err == nil || !strings.Contains(err.Error(), tc.addr) || errors.Is(err, store.ErrNotFound) {
					t.Errorf("%s: err = %v, want an error naming %s", op, err, tc.addr)
				}
				if d := time.Since(start); d > 5*time.Second {
					t.Errorf("%s: failing took %v", op, d)
				}
				t.Logf("%s: %v", op, err)
			}
			start := time.Now()
			_, err = k.Put(ctx, "inv", 1, strings.NewReader("x"))
			check("put", start, err)
			start = time.Now()
			_, err = k.Open(ctx, k.Topic("inv")+"/0/0/abc")
			check("open", start, err)
			start = time.Now()
			check("drop", start, k.DropInvocation(ctx, "inv"))
			start = time.Now()
			check("cleanup", start, k.Cleanup(ctx))
		})
	}
}

// outageDialer dials the real broker until an outage starts; the outage
// also cuts the connections it made.
type outageDialer struct {
	mu    sync.Mutex
	down  bool
	conns []net.Conn
}

func (d *outageDialer) dial(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.down {
		return nil, errors.New("connection refused (simulated outage)")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, address)
	if err == nil {
		d.conns = append(d.conns, c)
	}
	return c, err
}

func (d *outageDialer) set(down bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.down = down
	if down {
		for _, c := range d.conns {
			c.Close()
		}
		d.conns = nil
	}
}

func TestKafkaRecoversAfterOutage(t *testing.T) {
	owner := kafkaOwner("outage")
	cleanupKafkaOwner(t, owner)
	d := &outageDialer{}
	k, err := store.NewKafka(store.KafkaConfig{Brokers: kafkaBrokers(t), Owner: owner, Dial: d.dial,
		DialTimeout: time.Second, RequestTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	ctx := testCtx(t)
	inv := storetest.Invocation(t, "outage")
	want := storetest.Pattern(2*store.ChunkSize, 3)
	key, err := k.Put(ctx, inv, 1, bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}

	d.set(true)
	start := time.Now()
	if _, err := k.Put(ctx, inv, 1, bytes.NewReader(want)); err == nil || !strings.Contains(err.Error(), "simulated outage") {
		t.Fatalf("put during the outage: err = %v", err)
	}
	if _, err := store.ReadAll(ctx, k, key); err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("read during the outage: err = %v, want a connection error", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Fatalf("failing during the outage took %v", d)
	}

	d.set(false)
	if got, err := store.ReadAll(ctx, k, key); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read after the outage: %d bytes, err %v", len(got), err)
	}
	key2, err := k.Put(ctx, inv, 1, bytes.NewReader(want))
	if err != nil {
		t.Fatalf("put after the outage: %v", err)
	}
	if got, err := store.ReadAll(ctx, k, key2); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read of a value put after the outage: %d bytes, err %v", len(got), err)
	}
}

// BenchmarkKafka compares the store (Put then ReadAll, in one invocation
// topic) with a floor: the same bytes produced in ChunkSize messages and
// consumed back over a bare kafka-go connection, with no store logic.
// "paired" runs one store round trip and one floor round trip in every
// iteration and reports their ratio: the broker's speed drifts by tens of
// percent within minutes, and pairing cancels that drift out of the ratio.
//
//	go test -run '^$' -bench Kafka ./agents/store/
func BenchmarkKafka(b *testing.B) {
	brokers := kafkaBrokers(b)
	for _, size := range benchSizes {
		data := storetest.Pattern(size.n, 5)
		check := func(b *testing.B, what string, got []byte, first bool) {
			if len(got) != len(data) || first && !bytes.Equal(got, data) {
				b.Fatalf("%s read back %d bytes, want %d", what, len(got), len(data))
			}
		}
		b.Run(size.name+"/store", func(b *testing.B) {
			st := newKafkaRoundTrip(b)
			b.SetBytes(int64(size.n))
			first := true
			for b.Loop() {
				check(b, "store", st(data), first)
				first = false
			}
		})
		b.Run(size.name+"/floor", func(b *testing.B) {
			floor := newKafkaFloor(b, brokers[0])
			b.SetBytes(int64(size.n))
			first := true
			for b.Loop() {
				check(b, "floor", floor(data), first)
				first = false
			}
		})
		b.Run(size.name+"/paired", func(b *testing.B) {
			st, floor := newKafkaRoundTrip(b), newKafkaFloor(b, brokers[0])
			var inStore, inFloor time.Duration
			first := true
			for b.Loop() {
				t0 := time.Now()
				got := st(data)
				t1 := time.Now()
				check(b, "store", got, first)
				t2 := time.Now()
				got = floor(data)
				inStore, inFloor = inStore+t1.Sub(t0), inFloor+time.Since(t2)
				check(b, "floor", got, first)
				first = false
			}
			b.ReportMetric(float64(inStore.Nanoseconds())/float64(b.N), "store-ns/op")
			b.ReportMetric(float64(inFloor.Nanoseconds())/float64(b.N), "floor-ns/op")
			b.ReportMetric(float64(inStore)/float64(inFloor), "store/floor")
		})
	}
}

// newKafkaRoundTrip returns a function that puts data into a Kafka store
// (one invocation topic) and reads it back whole.
func newKafkaRoundTrip(b *testing.B) func(data []byte) []byte {
	owner := kafkaOwner("bench")
	cleanupKafkaOwner(b, owner)
	k := newKafka(b, owner)
	ctx := testCtx(b)
	return func(data []byte) []byte {
		key, err := k.Put(ctx, "bench", 1, store.Bytes(data))
		if err != nil {
			b.Fatal(err)
		}
		got, err := store.ReadAll(ctx, k, key)
		if err != nil {
			b.Fatal(err)
		}
		return got
	}
}

// newKafkaFloor returns the floor's round trip: it produces data in
// ChunkSize messages (up to 3 a request, what fits the broker's default
// message.max.bytes) over a kafka-go Conn to the partition leader of a
// topic of its own, then reads them back over the same connection.
func newKafkaFloor(b *testing.B, broker string) func(data []byte) []byte {
	topic := fmt.Sprintf("faasflow-bench-floor-%d", time.Now().UnixNano())
	ctrl, err := kafka.Dial("tcp", broker)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ctrl.Close() })
	if err := ctrl.CreateTopics(kafka.TopicConfig{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ctrl.DeleteTopics(topic) })
	ctx := testCtx(b)
	var conn *kafka.Conn
	for conn == nil {
		if conn, err = kafka.DialLeader(ctx, "tcp", broker, topic, 0); err != nil {
			if ctx.Err() != nil {
				b.Fatal(err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	b.Cleanup(func() { conn.Close() })

	msgs := make([]kafka.Message, 0, 3)
	return func(data []byte) []byte {
		conn.SetDeadline(time.Now().Add(time.Minute))
		start := int64(-1)
		for off := 0; off < len(data) || start < 0; {
			msgs = msgs[:0]
			for len(msgs) < 3 && (off < len(data) || len(msgs) == 0 && start < 0) {
				end := min(off+store.ChunkSize, len(data))
				msgs = append(msgs, kafka.Message{Value: data[off:end]})
				off = end
			}
			_, _, o, _, err := conn.WriteCompressedMessagesAt(nil, msgs...)
			if err != nil {
				b.Fatal(err)
			}
			if start < 0 {
				start = o
			}
		}
		if _, err := conn.Seek(start, kafka.SeekAbsolute); err != nil {
			b.Fatal(err)
		}
		var out []byte
		for len(out) < len(data) {
			batch := conn.ReadBatch(1, 1<<20) // as much as the store fetches
			for {
				m, err := batch.ReadMessage()
				if err != nil {
					break
				}
				out = append(out, m.Value...)
			}
			if err := batch.Close(); err != nil {
				b.Fatal(err)
			}
		}
		return out
	}
}
