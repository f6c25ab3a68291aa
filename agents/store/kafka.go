package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/protocol"
	"github.com/segmentio/kafka-go/protocol/apiversions"
)

// KafkaConfig configures a Kafka store.
type KafkaConfig struct {
	// Brokers are the bootstrap brokers, as "host:port". At least one.
	Brokers []string
	// Owner is the ID of the worker that owns the store's topics. It appears
	// in their names, and Cleanup deletes every topic of this owner.
	Owner string
	// DialTimeout bounds connecting to a broker (default 5 s).
	DialTimeout time.Duration
	// RequestTimeout bounds each request to a broker, and the wait for a
	// created topic to get a leader or a deleted one to disappear (default
	// 30 s).
	RequestTimeout time.Duration
	// ChunkWait is how long a reader waits for the next chunk of a value that
	// is still being written before it gives up (default 30 s).
	ChunkWait time.Duration
	// FetchBytes is the most bytes one fetch asks a broker for (default
	// 1 MiB); an open reader holds about this much in memory (at least one
	// record batch of up to 3 chunks).
	FetchBytes int
	// Dial connects to a broker; nil uses a net.Dialer.
	Dial func(ctx context.Context, network, address string) (net.Conn, error)
}

// Kafka is the remote tier of FaaSFlow on Apache Kafka. It is safe for
// concurrent use.
//
// Each invocation's values go to one topic of the store's owner,
// "faasflow.<owner>.<invocation>" (1 partition, replication factor 1),
// created on the invocation's first Put. A value is written as records of at
// most ChunkSize bytes whose headers name the value, the chunk's sequence
// number and whether it is the last; its key is
// "<topic>/<partition>/<offset of the first chunk>/<value ID>". Values of the
// same invocation may interleave in the topic: a reader skips the records of
// other values.
//
// Kafka cannot delete records one by one, so Release is a no-op: a value
// lives until DropInvocation deletes its invocation's topic (or Cleanup
// deletes all of the owner's topics).
type Kafka struct {
	cfg    KafkaConfig
	name   string // "kafka <brokers>", the prefix of every error
	prefix string // "faasflow.<owner>.", the owner's topic name prefix
	conns  *kafkaConns
	client *kafka.Client

	mu      sync.Mutex
	closed  bool
	topics  map[string]string    // topics known to exist -> their leader ("" if not looked up)
	dropped map[string]time.Time // topics deleted by this store -> when

	bg   context.Context // ended by Close; background writes stop with it
	stop context.CancelFunc
	wg   sync.WaitGroup // background writes
}

var (
	_ Store  = (*Kafka)(nil)
	_ Tiered = (*Kafka)(nil)
)

const (
	kafkaPartition = 0
	// kafkaChunksPerProduce chunks go in one produce request, as one record
	// batch: 3 × 256 KiB stays under the broker's default message.max.bytes
	// (about 1 MiB), which limits a whole batch.
	kafkaChunksPerProduce = 3
	kafkaMaxIdleConns     = 8
	kafkaOwnerMax         = 64
	kafkaTopicMax         = 200 // Kafka allows 249
	kafkaDroppedTTL       = 10 * time.Minute
	kafkaPollWait         = 500 * time.Millisecond

	kafkaHeaderValue = "faasflow.value" // the value ID
	kafkaHeaderSeq   = "faasflow.seq"   // the chunk's sequence number, from 0
	kafkaHeaderLast  = "faasflow.last"  // "1" on the last chunk
	kafkaHeaderAbort = "faasflow.abort" // the producer failed: the value will not be completed
)

// NewKafka returns a Kafka store. It does not connect: the brokers are
// dialled by the first operation, and again after any failure.
func NewKafka(cfg KafkaConfig) (*Kafka, error) {
	var brokers []string
	for _, b := range cfg.Brokers {
		if b = strings.TrimSpace(b); b != "" {
			brokers = append(brokers, b)
		}
	}
	if len(brokers) == 0 {
		return nil, errors.New("kafka store: no brokers")
	}
	if cfg.Owner == "" {
		return nil, errors.New("kafka store: no owner")
	}
	cfg.Brokers = brokers
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 30 * time.Second
	}
	if cfg.ChunkWait <= 0 {
		cfg.ChunkWait = 30 * time.Second
	}
	if cfg.FetchBytes <= 0 {
		cfg.FetchBytes = 1 << 20
	}
	if cfg.Dial == nil {
		cfg.Dial = (&net.Dialer{}).DialContext
	}
	conns := &kafkaConns{dial: cfg.Dial, dialTimeout: cfg.DialTimeout, idle: map[string][]*protocol.Conn{}}
	bg, stop := context.WithCancel(context.Background())
	return &Kafka{
		cfg:     cfg,
		name:    "kafka " + strings.Join(brokers, ","),
		prefix:  "faasflow." + kafkaTopicPart(cfg.Owner, kafkaOwnerMax) + ".",
		conns:   conns,
		client:  &kafka.Client{Transport: conns, Timeout: cfg.RequestTimeout},
		topics:  map[string]string{},
		dropped: map[string]time.Time{},
		bg:      bg,
		stop:    stop,
	}, nil
}

// Tier reports "kafka".
func (k *Kafka) Tier() string { return "kafka" }

// Topic returns the name of the topic that holds inv's values.
func (k *Kafka) Topic(inv string) string {
	return k.prefix + kafkaTopicPart(inv, kafkaTopicMax-len(k.prefix))
}

// kafkaTopicPart returns s as a part of a topic name: s itself if it is
// made of [a-zA-Z0-9-] and at most max bytes long, otherwise s with every
// other byte replaced by '-', cut to fit, and followed by a hash of s so that
// distinct strings stay distinct. The parts never contain '.' (it separates
// them) nor '_' (Kafka rejects topics that differ only by '.' and '_').
func kafkaTopicPart(s string, max int) string {
	clean := []byte(s)
	ok := s != "" && len(s) <= max
	for i, c := range clean {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			clean[i] = '-'
			ok = false
		}
	}
	if ok {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	tail := "-" + hex.EncodeToString(sum[:6])
	if len(clean) > max-len(tail) {
		clean = clean[:max-len(tail)]
	}
	return string(clean) + tail
}

// errorf returns an error that names the brokers.
func (k *Kafka) errorf(format string, args ...any) error {
	return fmt.Errorf("%s: %w", k.name, fmt.Errorf(format, args...))
}

// notFound returns an error wrapping ErrNotFound for key.
func (k *Kafka) notFound(key, why string) error {
	return fmt.Errorf("%s: open %s: %s: %w", k.name, key, why, ErrNotFound)
}

// Put writes the value read from r for invocation inv and returns its key
// once every chunk is written. refs is not used: see Release.
func (k *Kafka) Put(ctx context.Context, inv string, refs int, r io.Reader) (string, error) {
	key, done, err := k.PutAsync(ctx, inv, refs, r)
	if err != nil {
		return "", err
	}
	if err := <-done; err != nil {
		return "", err
	}
	return key, nil
}

// PutAsync writes the first chunk of the value read from r and returns its
// key at once; the rest of the value is written in the background, and done
// reports the outcome (nil once the last chunk is written). A reader may open
// the key right away: it reads the chunks as they arrive. ctx must stay live
// until done reports; if the write fails, readers of the key get an error
// instead of the rest of the value.
func (k *Kafka) PutAsync(ctx context.Context, inv string, refs int, r io.Reader) (key string, done <-chan error, err error) {
	topic := k.Topic(inv)
	leader, err := k.ensureTopic(ctx, topic)
	if err != nil {
		return "", nil, err
	}
	id := newKafkaValueID()
	src := newKafkaChunker(r)
	first, err := src.next(false)
	if err != nil {
		src.close()
		return "", nil, k.errorf("put to topic %s: read the value: %w", topic, err)
	}
	off, err := k.produce(ctx, topic, &leader, id, []kafkaChunk{first})
	src.release(first)
	if err != nil {
		src.close()
		return "", nil, err
	}
	key = fmt.Sprintf("%s/%d/%d/%s", topic, kafkaPartition, off, id)
	ch := make(chan error, 1)
	if first.last {
		src.close()
		ch <- nil
		return key, ch, nil
	}
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		src.close()
		return "", nil, k.errorf("put to topic %s: store closed", topic)
	}
	k.wg.Add(1)
	k.mu.Unlock()
	// The rest is written under ctx, and stops when the store closes.
	wctx, cancel := context.WithCancel(ctx)
	stopOnClose := context.AfterFunc(k.bg, cancel)
	go func() {
		defer k.wg.Done()
		defer cancel()
		defer stopOnClose()
		defer src.close()
		ch <- k.putRest(wctx, topic, leader, id, src)
	}()
	return key, ch, nil
}

// putRest writes the chunks after the first, a few per request.
func (k *Kafka) putRest(ctx context.Context, topic, leader, id string, src *kafkaChunker) error {
	batch := make([]kafkaChunk, 0, kafkaChunksPerProduce)
	for {
		batch = batch[:0]
		for len(batch) < kafkaChunksPerProduce {
			c, err := src.next(true)
			if err != nil {
				for _, c := range batch {
					src.release(c)
				}
				err = k.errorf("put to topic %s: read the value: %w", topic, err)
				k.abort(ctx, topic, leader, id, err)
				return err
			}
			batch = append(batch, c)
			if c.last {
				break
			}
		}
		_, err := k.produce(ctx, topic, &leader, id, batch)
		for _, c := range batch {
			src.release(c)
		}
		if err != nil {
			k.abort(ctx, topic, leader, id, err)
			return err
		}
		if batch[len(batch)-1].last {
			return nil
		}
	}
}

// abort tells the readers of a value that it will not be completed, as far
// as the broker can be reached.
func (k *Kafka) abort(ctx context.Context, topic, leader, id string, cause error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rec := kafka.Record{Headers: []kafka.Header{
		{Key: kafkaHeaderValue, Value: []byte(id)},
		{Key: kafkaHeaderAbort, Value: []byte(cause.Error())},
	}}
	k.client.Produce(ctx, &kafka.ProduceRequest{
		Addr: kafka.TCP(leader), Topic: topic, Partition: kafkaPartition,
		RequiredAcks: kafka.RequireAll, Records: kafka.NewRecordReader(rec),
	})
}

// produce appends chunks of value id to the topic as one record batch and
// returns the offset of the first. It retries while the broker reports a
// retriable error (a topic just created, a leader moving).
func (k *Kafka) produce(ctx context.Context, topic string, leader *string, id string, chunks []kafkaChunk) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, k.cfg.RequestTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		records := make([]kafka.Record, len(chunks))
		for i, c := range chunks {
			last := "0"
			if c.last {
				last = "1"
			}
			records[i] = kafka.Record{
				Value: kafka.NewBytes(c.data),
				Headers: []kafka.Header{
					{Key: kafkaHeaderValue, Value: []byte(id)},
					{Key: kafkaHeaderSeq, Value: strconv.AppendInt(nil, c.seq, 10)},
					{Key: kafkaHeaderLast, Value: []byte(last)},
				},
			}
		}
		res, err := k.client.Produce(ctx, &kafka.ProduceRequest{
			Addr: kafka.TCP(*leader), Topic: topic, Partition: kafkaPartition,
			RequiredAcks: kafka.RequireAll, Records: kafka.NewRecordReader(records...),
		})
		if err != nil {
			return -1, k.errorf("produce to topic %s at %s: %w", topic, *leader, err)
		}
		if res.Error == nil {
			return res.BaseOffset, nil
		}
		var kerr kafka.Error
		if !errors.As(res.Error, &kerr) || !kerr.Temporary() {
			return -1, k.errorf("produce to topic %s at %s: %w", topic, *leader, res.Error)
		}
		k.mu.Lock()
		_, dropped := k.dropped[topic]
		k.mu.Unlock()
		if dropped {
			return -1, k.errorf("produce to topic %s: the invocation was dropped", topic)
		}
		if err := kafkaBackoff(ctx, attempt); err != nil {
			return -1, k.errorf("produce to topic %s at %s: %w (gave up: %v)", topic, *leader, res.Error, err)
		}
		k.forgetLeader(topic)
		l, err := k.leader(ctx, topic, true)
		if err != nil {
			return -1, err
		}
		*leader = l
	}
}

// kafkaBackoff sleeps before retry number attempt, or returns ctx's error.
func kafkaBackoff(ctx context.Context, attempt int) error {
	d := 10 * time.Millisecond << min(attempt, 5)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// ensureTopic creates topic unless it is known to exist, and returns its
// leader.
func (k *Kafka) ensureTopic(ctx context.Context, topic string) (string, error) {
	k.mu.Lock()
	closed := k.closed
	leader, ok := k.topics[topic]
	delete(k.dropped, topic)
	k.mu.Unlock()
	if closed {
		return "", k.errorf("put to topic %s: store closed", topic)
	}
	if ok && leader != "" {
		return leader, nil
	}
	if !ok {
		err := k.anyBroker(ctx, func(addr net.Addr) error {
			res, err := k.client.CreateTopics(ctx, &kafka.CreateTopicsRequest{
				Addr:   addr,
				Topics: []kafka.TopicConfig{{Topic: topic, NumPartitions: 1, ReplicationFactor: 1}},
			})
			if err != nil {
				return err
			}
			if err := res.Errors[topic]; err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
				return err
			}
			return nil
		})
		if err != nil {
			return "", k.errorf("create topic %s: %w", topic, err)
		}
	}
	return k.leader(ctx, topic, true)
}

// leader returns the address of the broker that leads the topic's
// partition. If the topic does not exist it returns an error wrapping
// ErrNotFound, unless wait is set (the topic was just created): then it
// waits for the topic to appear.
func (k *Kafka) leader(ctx context.Context, topic string, wait bool) (string, error) {
	k.mu.Lock()
	leader := k.topics[topic]
	k.mu.Unlock()
	if leader != "" {
		return leader, nil
	}
	ctx, cancel := context.WithTimeout(ctx, k.cfg.RequestTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		md, err := k.metadata(ctx, []string{topic})
		if err != nil {
			return "", k.errorf("look up topic %s: %w", topic, err)
		}
		why := "no leader"
		for _, t := range md.Topics {
			if t.Name != topic {
				continue
			}
			if errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
				if !wait {
					return "", fmt.Errorf("%s: topic %s does not exist: %w", k.name, topic, ErrNotFound)
				}
				why = "topic not created yet"
				break
			}
			if t.Error != nil {
				why = t.Error.Error()
				break
			}
			for _, p := range t.Partitions {
				if p.ID == kafkaPartition && p.Error == nil && p.Leader.Host != "" {
					leader = net.JoinHostPort(p.Leader.Host, strconv.Itoa(p.Leader.Port))
					k.mu.Lock()
					k.topics[topic] = leader
					k.mu.Unlock()
					return leader, nil
				}
			}
		}
		if err := kafkaBackoff(ctx, attempt); err != nil {
			return "", k.errorf("look up topic %s: %s: %w", topic, why, err)
		}
	}
}

// forgetLeader drops the cached leader of topic, to look it up again.
func (k *Kafka) forgetLeader(topic string) {
	k.mu.Lock()
	if _, ok := k.topics[topic]; ok {
		k.topics[topic] = ""
	}
	k.mu.Unlock()
}

// metadata asks a bootstrap broker about topics (all topics if nil). It
// never creates a topic, whatever the broker's auto.create.topics.enable.
func (k *Kafka) metadata(ctx context.Context, topics []string) (*kafka.MetadataResponse, error) {
	var md *kafka.MetadataResponse
	err := k.anyBroker(ctx, func(addr net.Addr) error {
		var err error
		md, err = k.client.Metadata(ctx, &kafka.MetadataRequest{Addr: addr, Topics: topics})
		return err
	})
	return md, err
}

// anyBroker calls f with each bootstrap broker in turn until one call
// succeeds, and returns the last error otherwise.
func (k *Kafka) anyBroker(ctx context.Context, f func(addr net.Addr) error) error {
	var err error
	for _, b := range k.cfg.Brokers {
		if err = f(kafka.TCP(b)); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// Open returns a reader of the value under key. It checks that the record
// at the key's offset is the value's first chunk, and returns an error
// wrapping ErrNotFound if it is not or if the topic is gone. The reader
// yields the value's chunks as they arrive, waiting up to ChunkWait for each
// one still being written; ctx bounds the whole read.
func (k *Kafka) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	topic, partition, offset, id, ok := parseKafkaKey(key)
	if !ok {
		return nil, k.notFound(key, "malformed key")
	}
	k.mu.Lock()
	_, dropped := k.dropped[topic]
	k.mu.Unlock()
	if dropped {
		return nil, k.notFound(key, "invocation dropped")
	}
	r := &kafkaReader{k: k, ctx: ctx, key: key, topic: topic, partition: partition, id: id, next: offset}
	if err := r.openFirst(offset); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// parseKafkaKey splits "topic/partition/offset/valueID".
func parseKafkaKey(key string) (topic string, partition int, offset int64, id string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 4 || parts[0] == "" || parts[3] == "" {
		return "", 0, 0, "", false
	}
	partition, err1 := strconv.Atoi(parts[1])
	offset, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil || partition < 0 || offset < 0 {
		return "", 0, 0, "", false
	}
	return parts[0], partition, offset, parts[3], true
}

// Release does nothing: Kafka cannot delete single records, so a value
// stays readable until its invocation is dropped.
func (k *Kafka) Release(ctx context.Context, key string) error { return nil }

// DropInvocation deletes inv's topic, with every value in it. It returns
// once the brokers no longer know the topic, and from then on Open of one of
// its keys returns ErrNotFound at once.
func (k *Kafka) DropInvocation(ctx context.Context, inv string) error {
	return k.deleteTopics(ctx, []string{k.Topic(inv)})
}

// Cleanup deletes every topic of the store's owner, for a worker that
// restarts after a crash and so cannot drop its old invocations one by one.
func (k *Kafka) Cleanup(ctx context.Context) error {
	topics, err := k.Topics(ctx)
	if err != nil {
		return err
	}
	if len(topics) == 0 {
		return nil
	}
	return k.deleteTopics(ctx, topics)
}

// Topics lists the owner's topics on the brokers.
func (k *Kafka) Topics(ctx context.Context) ([]string, error) {
	md, err := k.metadata(ctx, nil)
	if err != nil {
		return nil, k.errorf("list topics: %w", err)
	}
	var topics []string
	for _, t := range md.Topics {
		if strings.HasPrefix(t.Name, k.prefix) {
			topics = append(topics, t.Name)
		}
	}
	return topics, nil
}

// deleteTopics deletes topics and waits until the brokers no longer know
// them. Topics that do not exist are not an error.
func (k *Kafka) deleteTopics(ctx context.Context, topics []string) error {
	now := time.Now()
	k.mu.Lock()
	for t, at := range k.dropped {
		if now.Sub(at) > kafkaDroppedTTL {
			delete(k.dropped, t)
		}
	}
	for _, t := range topics {
		delete(k.topics, t)
		k.dropped[t] = now
	}
	k.mu.Unlock()

	what := topics[0]
	if len(topics) > 1 {
		what = fmt.Sprintf("%d topics of %s*", len(topics), k.prefix)
	}
	err := k.anyBroker(ctx, func(addr net.Addr) error {
		res, err := k.client.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Addr: addr, Topics: topics})
		if err != nil {
			return err
		}
		for t, err := range res.Errors {
			if err != nil && !errors.Is(err, kafka.UnknownTopicOrPartition) {
				return fmt.Errorf("%s: %w", t, err)
			}
		}
		return nil
	})
	if err != nil {
		return k.errorf("delete %s: %w", what, err)
	}
	// Deletion is applied by the brokers a little after the controller
	// accepts it: wait until no broker we can ask still knows a topic.
	wctx, cancel := context.WithTimeout(ctx, k.cfg.RequestTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		left := 0
		for _, b := range k.cfg.Brokers {
			md, err := k.client.Metadata(wctx, &kafka.MetadataRequest{Addr: kafka.TCP(b), Topics: topics})
			if err != nil {
				continue // a broker that cannot be reached serves no reader either
			}
			for _, t := range md.Topics {
				if !errors.Is(t.Error, kafka.UnknownTopicOrPartition) {
					left++
				}
			}
		}
		if left == 0 {
			return nil
		}
		if err := kafkaBackoff(wctx, min(attempt, 2)); err != nil {
			return k.errorf("delete %s: %d still listed: %w", what, left, err)
		}
	}
}

// Close stops background writes and closes the connections.
func (k *Kafka) Close() error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		return nil
	}
	k.closed = true
	k.mu.Unlock()
	k.stop()
	k.wg.Wait()
	k.conns.close()
	return nil
}

// newKafkaValueID returns a random value ID.
func newKafkaValueID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// kafkaChunk is one piece of a value to produce.
type kafkaChunk struct {
	data []byte
	buf  *[]byte // the pooled buffer data is in, nil for a slice of the caller's bytes
	seq  int64
	last bool
}

var kafkaBufs = sync.Pool{New: func() any {
	b := make([]byte, ChunkSize)
	return &b
}}

// kafkaChunker cuts a value into chunks of ChunkSize bytes (the last one
// shorter) and marks the last. A store.Bytes value is cut into slices of its
// own bytes; another reader is read into pooled buffers.
type kafkaChunker struct {
	r     io.Reader
	whole []byte // the rest of a store.Bytes value
	bytes bool
	seq   int64
	ahead *kafkaChunk // a chunk read ahead, to learn whether the one before is the last
	eof   bool        // ahead is the last one
}

func newKafkaChunker(r io.Reader) *kafkaChunker {
	if br, ok := r.(*byteReader); ok {
		return &kafkaChunker{whole: br.take(), bytes: true}
	}
	return &kafkaChunker{r: r}
}

// next returns the next chunk. With lookahead it reads the following chunk
// too when needed, so that it can mark the last chunk as such; without it,
// a full chunk is never marked last, and if the value ends right after it
// the next call returns an empty last chunk.
func (c *kafkaChunker) next(lookahead bool) (kafkaChunk, error) {
	if c.bytes {
		n := min(len(c.whole), ChunkSize)
		ch := kafkaChunk{data: c.whole[:n], seq: c.seq, last: n == len(c.whole)}
		c.whole = c.whole[n:]
		c.seq++
		return ch, nil
	}
	var cur kafkaChunk
	var eof bool
	if c.ahead != nil {
		cur, eof = *c.ahead, c.eof
		c.ahead = nil
	} else {
		var err error
		if cur, eof, err = c.fill(); err != nil {
			return kafkaChunk{}, err
		}
	}
	cur.seq = c.seq
	c.seq++
	if eof || !lookahead {
		cur.last = eof
		return cur, nil
	}
	nxt, eof, err := c.fill()
	if err != nil {
		c.release(cur)
		return kafkaChunk{}, err
	}
	if eof && len(nxt.data) == 0 {
		c.release(nxt)
		cur.last = true
		return cur, nil
	}
	c.ahead, c.eof = &nxt, eof
	return cur, nil
}

// fill reads one chunk from r; eof reports that r ended within it.
func (c *kafkaChunker) fill() (kafkaChunk, bool, error) {
	buf := kafkaBufs.Get().(*[]byte)
	n, err := io.ReadFull(c.r, *buf)
	switch err {
	case nil:
		return kafkaChunk{data: (*buf)[:n], buf: buf}, false, nil
	case io.EOF, io.ErrUnexpectedEOF:
		return kafkaChunk{data: (*buf)[:n], buf: buf}, true, nil
	default:
		kafkaBufs.Put(buf)
		return kafkaChunk{}, false, err
	}
}

// release returns a chunk's buffer to the pool once it is written.
func (c *kafkaChunker) release(ch kafkaChunk) {
	if ch.buf != nil {
		kafkaBufs.Put(ch.buf)
	}
}

// close releases the chunk read ahead, if any.
func (c *kafkaChunker) close() {
	if c.ahead != nil {
		c.release(*c.ahead)
		c.ahead = nil
	}
}

// kafkaReader streams one value: the records of its chunks, fetched a few
// at a time from its topic's partition leader.
type kafkaReader struct {
	k         *Kafka
	ctx       context.Context
	key       string
	topic     string
	partition int
	id        string
	next      int64              // offset of the next record to look at
	seq       int64              // sequence number of the next chunk
	recs      kafka.RecordReader // records of the last fetch not yet looked at
	cur       kafka.Bytes        // the rest of the current chunk
	last      bool               // the current chunk is the last
	err       error              // sticky: io.EOF at the end
}

// openFirst fetches the record at offset and checks it is the first chunk
// of the value. It does not wait: the first chunk is written before the key
// is handed out.
func (r *kafkaReader) openFirst(offset int64) error {
	recs, err := r.fetch(time.Millisecond)
	if err != nil {
		return err
	}
	r.recs = recs
	for {
		rec, err := r.recs.ReadRecord()
		if err != nil {
			if err == io.EOF {
				return r.k.notFound(r.key, "no record at its offset")
			}
			return r.k.errorf("open %s: %w", r.key, err)
		}
		if rec.Offset < offset {
			closeBytes(rec.Value)
			continue
		}
		id, seq, last, abort := kafkaChunkHeaders(rec.Headers)
		if rec.Offset != offset || id != r.id || seq != 0 {
			closeBytes(rec.Value)
			return r.k.notFound(r.key, "no such value at its offset")
		}
		r.next = rec.Offset + 1
		if abort != "" {
			closeBytes(rec.Value)
			return r.k.errorf("open %s: the producer failed: %s", r.key, abort)
		}
		r.seq, r.cur, r.last = 1, rec.Value, last
		return nil
	}
}

// Read reads the value.
func (r *kafkaReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for r.err == nil {
		if r.cur != nil {
			n, err := r.cur.Read(p)
			if err == io.EOF {
				closeBytes(r.cur)
				r.cur = nil
				if r.last {
					r.err = io.EOF
				}
				err = nil
			}
			if n > 0 || err != nil {
				return n, err
			}
			continue
		}
		if r.last {
			r.err = io.EOF
			break
		}
		r.err = r.nextChunk()
	}
	return 0, r.err
}

// nextChunk finds the value's next chunk, fetching (and waiting for) more
// records as needed.
func (r *kafkaReader) nextChunk() error {
	waitUntil := time.Now().Add(r.k.cfg.ChunkWait)
	for {
		if r.recs == nil {
			if time.Now().After(waitUntil) {
				return r.k.errorf("read %s: chunk %d did not arrive within %v (its producer may have failed)",
					r.key, r.seq, r.k.cfg.ChunkWait)
			}
			recs, err := r.fetch(kafkaPollWait)
			if err != nil {
				return err
			}
			r.recs = recs
		}
		rec, err := r.recs.ReadRecord()
		if err == io.EOF {
			r.recs = nil
			continue
		}
		if err != nil {
			return r.k.errorf("read %s: %w", r.key, err)
		}
		if rec.Offset < r.next {
			closeBytes(rec.Value)
			continue
		}
		r.next = rec.Offset + 1
		id, seq, last, abort := kafkaChunkHeaders(rec.Headers)
		if id != r.id || (seq < r.seq && abort == "") {
			// Another value's record, or a chunk written twice by a retry.
			closeBytes(rec.Value)
			continue
		}
		if abort != "" {
			closeBytes(rec.Value)
			return r.k.errorf("read %s: the producer failed: %s", r.key, abort)
		}
		if seq != r.seq {
			closeBytes(rec.Value)
			return r.k.errorf("read %s: chunk %d found where chunk %d was expected", r.key, seq, r.seq)
		}
		r.seq++
		r.cur, r.last = rec.Value, last
		if r.cur == nil && !last {
			continue
		}
		return nil
	}
}

// fetch fetches records from r.next on, waiting up to wait for some to
// arrive. A missing topic or offset is an error wrapping ErrNotFound.
func (r *kafkaReader) fetch(wait time.Duration) (kafka.RecordReader, error) {
	if err := r.ctx.Err(); err != nil {
		return nil, r.k.errorf("read %s: %w", r.key, err)
	}
	for attempt := 0; ; attempt++ {
		leader, err := r.k.leader(r.ctx, r.topic, false)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, r.k.notFound(r.key, "topic "+r.topic+" does not exist")
			}
			return nil, err
		}
		res, err := r.k.client.Fetch(r.ctx, &kafka.FetchRequest{
			Addr: kafka.TCP(leader), Topic: r.topic, Partition: r.partition, Offset: r.next,
			MinBytes: 1, MaxBytes: int64(r.k.cfg.FetchBytes), MaxWait: wait,
		})
		if err != nil {
			return nil, r.k.errorf("read %s: fetch from %s: %w", r.key, leader, err)
		}
		switch {
		case res.Error == nil:
			return res.Records, nil
		case errors.Is(res.Error, kafka.UnknownTopicOrPartition):
			r.k.forgetLeader(r.topic)
			return nil, r.k.notFound(r.key, "topic "+r.topic+" does not exist")
		case errors.Is(res.Error, kafka.OffsetOutOfRange):
			return nil, r.k.notFound(r.key, fmt.Sprintf("offset %d out of range", r.next))
		}
		var kerr kafka.Error
		if !errors.As(res.Error, &kerr) || !kerr.Temporary() {
			return nil, r.k.errorf("read %s: fetch from %s: %w", r.key, leader, res.Error)
		}
		r.k.forgetLeader(r.topic)
		if err := kafkaBackoff(r.ctx, attempt); err != nil {
			return nil, r.k.errorf("read %s: fetch from %s: %w (gave up: %v)", r.key, leader, res.Error, err)
		}
	}
}

// Close ends the read.
func (r *kafkaReader) Close() error {
	closeBytes(r.cur)
	r.cur, r.recs = nil, nil
	if r.err == nil || r.err == io.EOF {
		r.err = errors.New("kafka store: read of a closed reader")
	}
	return nil
}

func closeBytes(b kafka.Bytes) {
	if b != nil {
		b.Close()
	}
}

// kafkaChunkHeaders returns what a record's headers say about the chunk.
func kafkaChunkHeaders(hs []kafka.Header) (id string, seq int64, last bool, abort string) {
	seq = -1
	for _, h := range hs {
		switch h.Key {
		case kafkaHeaderValue:
			id = string(h.Value)
		case kafkaHeaderSeq:
			if n, err := strconv.ParseInt(string(h.Value), 10, 64); err == nil {
				seq = n
			}
		case kafkaHeaderLast:
			last = string(h.Value) == "1"
		case kafkaHeaderAbort:
			abort = string(h.Value)
			if abort == "" {
				abort = "aborted"
			}
		}
	}
	return id, seq, last, abort
}

// kafkaConns is the store's kafka.RoundTripper. Each request goes straight
// to the broker it is addressed to, over a pooled connection; a connection
// that fails is closed and the next request dials again. (kafka-go's
// Transport serves metadata from a cache refreshed every few seconds, so it
// would miss a topic another worker has just created, or one just deleted.)
type kafkaConns struct {
	dial        func(ctx context.Context, network, address string) (net.Conn, error)
	dialTimeout time.Duration

	mu     sync.Mutex
	idle   map[string][]*protocol.Conn
	closed bool
}

// RoundTrip sends req to the broker at addr and returns its response. ctx
// bounds the whole exchange.
func (p *kafkaConns) RoundTrip(ctx context.Context, addr net.Addr, req kafka.Request) (kafka.Response, error) {
	address := addr.String()
	c, pooled, err := p.get(ctx, address)
	if err != nil {
		return nil, err
	}
	res, err := p.exchange(ctx, c, req)
	if err != nil && pooled && ctx.Err() == nil {
		// The broker may have closed an idle connection (or restarted):
		// the others pooled with it are as stale. Try once on a new one.
		p.dropIdle(address)
		if c, err = p.connect(ctx, address); err != nil {
			return nil, err
		}
		res, err = p.exchange(ctx, c, req)
	}
	if err != nil {
		return nil, err
	}
	p.put(address, c)
	return res, nil
}

// exchange sends req over c and reads the response. It closes c on error.
func (p *kafkaConns) exchange(ctx context.Context, c *protocol.Conn, req kafka.Request) (kafka.Response, error) {
	deadline, _ := ctx.Deadline()
	c.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	res, err := c.RoundTrip(req)
	if !stop() {
		// ctx ended during the exchange: c's deadline is spoiled.
		c.Close()
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return res, nil
}

// get returns an idle connection to address (pooled is true) or a new one.
func (p *kafkaConns) get(ctx context.Context, address string) (c *protocol.Conn, pooled bool, err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, false, errors.New("store closed")
	}
	if idle := p.idle[address]; len(idle) > 0 {
		c = idle[len(idle)-1]
		p.idle[address] = idle[:len(idle)-1]
		p.mu.Unlock()
		return c, true, nil
	}
	p.mu.Unlock()
	c, err = p.connect(ctx, address)
	return c, false, err
}

// put keeps c for the next request to address.
func (p *kafkaConns) put(address string, c *protocol.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle[address]) >= kafkaMaxIdleConns {
		c.Close()
		return
	}
	p.idle[address] = append(p.idle[address], c)
}

// dropIdle closes the idle connections to address.
func (p *kafkaConns) dropIdle(address string) {
	p.mu.Lock()
	idle := p.idle[address]
	delete(p.idle, address)
	p.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}

// connect dials address and agrees on the API versions to use.
func (p *kafkaConns) connect(ctx context.Context, address string) (*protocol.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, p.dialTimeout)
	defer cancel()
	nc, err := p.dial(ctx, "tcp", address)
	if err != nil {
		return nil, err
	}
	c := protocol.NewConn(nc, "faasflow")
	res, err := p.exchange(ctx, c, new(apiversions.Request))
	if err != nil {
		return nil, fmt.Errorf("negotiate API versions with %s: %w", address, err)
	}
	av := res.(*apiversions.Response)
	if av.ErrorCode != 0 {
		c.Close()
		return nil, fmt.Errorf("negotiate API versions with %s: %w", address, kafka.Error(av.ErrorCode))
	}
	versions := make(map[protocol.ApiKey]int16, len(av.ApiKeys))
	for _, v := range av.ApiKeys {
		key := protocol.ApiKey(v.ApiKey)
		versions[key] = key.SelectVersion(v.MinVersion, v.MaxVersion)
	}
	c.SetVersions(versions)
	return c, nil
}

// close closes the idle connections; busy ones are closed when returned.
func (p *kafkaConns) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle = map[string][]*protocol.Conn{}
	p.closed = true
	p.mu.Unlock()
	for _, cs := range idle {
		for _, c := range cs {
			c.Close()
		}
	}
}
