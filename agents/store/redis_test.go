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
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/agents/store/storetest"
	"github.com/faasflow/faasflow-go/internal/services"
)

// redisAddr returns the test server's address, or skips the test.
func redisAddr(tb testing.TB) string { return services.Redis(tb) }

// testPrefix returns a key prefix of its own to tb, and deletes its keys
// when tb ends.
func testPrefix(tb testing.TB, addr string) string {
	tb.Helper()
	prefix := fmt.Sprintf("faasflow-test-%d", time.Now().UnixNano())
	tb.Cleanup(func() {
		c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
		defer c.Close()
		ctx := context.Background()
		keys, err := c.Keys(ctx, prefix+":*").Result()
		if err == nil && len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return prefix
}

// prefixKeys lists the Redis keys under prefix.
func prefixKeys(t *testing.T, addr, prefix string) []string {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
	defer c.Close()
	keys, err := c.Keys(context.Background(), prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func newTestRedis(tb testing.TB, cfg store.RedisConfig) *store.Redis {
	tb.Helper()
	r, err := store.NewRedis(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestRedisContract(t *testing.T) {
	addr := redisAddr(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return newTestRedis(t, store.RedisConfig{Addr: addr, Prefix: testPrefix(t, addr)})
	}, storetest.Options{MaxGrowth: 16 << 20})
}

func TestRedisTier(t *testing.T) {
	addr := redisAddr(t)
	r := newTestRedis(t, store.RedisConfig{Addr: addr, Prefix: testPrefix(t, addr)})
	defer r.Close()
	if got := store.TierOf(r); got != "redis" {
		t.Fatalf("tier %q, want redis", got)
	}
}

func TestRedisNeedsAddress(t *testing.T) {
	if _, err := store.NewRedis(store.RedisConfig{}); err == nil {
		t.Fatal("a config without an address was accepted")
	}
}

// failingReader yields n bytes, then an error.
type failingReader struct{ n int }

var errWriterBroke = errors.New("writer broke")

func (f *failingReader) Read(b []byte) (int, error) {
	if f.n == 0 {
		return 0, errWriterBroke
	}
	n := min(len(b), f.n)
	clear(b[:n])
	f.n -= n
	return n, nil
}

// A value whose reader fails part way is not stored, even in part.
func TestRedisFailedPutLeavesNothing(t *testing.T) {
	addr := redisAddr(t)
	prefix := testPrefix(t, addr)
	r := newTestRedis(t, store.RedisConfig{Addr: addr, Prefix: prefix})
	defer r.Close()
	ctx := context.Background()
	for _, n := range []int{0, 100, store.ChunkSize * 5} {
		_, err := r.Put(ctx, "inv", 1, &failingReader{n: n})
		if !errors.Is(err, errWriterBroke) || !strings.Contains(err.Error(), addr) {
			t.Fatalf("put failing after %d bytes: err = %v, want the reader's error, naming %s", n, err, addr)
		}
	}
	if keys := prefixKeys(t, addr, prefix); len(keys) != 1 || keys[0] != prefix+":seq" {
		t.Fatalf("failed puts left keys %q, want only the sequence", keys)
	}
}

// Values written under one prefix are not seen under another.
func TestRedisPrefixesAreSeparate(t *testing.T) {
	addr := redisAddr(t)
	a := newTestRedis(t, store.RedisConfig{Addr: addr, Prefix: testPrefix(t, addr)})
	defer a.Close()
	b := newTestRedis(t, store.RedisConfig{Addr: addr, Prefix: testPrefix(t, addr)})
	defer b.Close()
	ctx := context.Background()
	key, err := a.Put(ctx, "inv", 1, strings.NewReader("mine"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Open(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open through another prefix: err = %v, want ErrNotFound", err)
	}
}

// proxy forwards TCP connections from a local port to a target, and can be
// stopped (closing every connection) and started again on the same port.
type proxy struct {
	t      *testing.T
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, target string) *proxy {
	p := &proxy{t: t, target: target, addr: "127.0.0.1:0", conns: map[net.Conn]struct{}{}}
	p.start()
	t.Cleanup(p.stop)
	return p
}

// start listens on p.addr (the port picked at the first start).
func (p *proxy) start() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen on %s: %v", p.addr, err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			if !p.track(c, up) {
				return
			}
			p.wg.Add(2)
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
}

// track records a connection pair, or closes it if the proxy is stopped.
func (p *proxy) track(c, up net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		up.Close()
		return false
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	return true
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// stop closes the listener and every connection, and waits for the
// forwarding goroutines.
func (p *proxy) stop() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// While Redis is unreachable, operations fail promptly with an error naming
// the address; once it is back, the same store works again.
func TestRedisOutage(t *testing.T) {
	target := redisAddr(t)
	px := startProxy(t, target)
	r := newTestRedis(t, store.RedisConfig{
		Addr:         px.addr,
		Prefix:       testPrefix(t, target),
		DialTimeout:  300 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
	})
	defer r.Close()
	inv := storetest.Invocation(t, "outage")
	ctx := context.Background()

	before := storetest.Pattern(3<<20, 1)
	key, err := r.Put(ctx, inv, 2, bytes.NewReader(before))
	if err != nil {
		t.Fatal(err)
	}
	// A reader open across the outage.
	rc, err := r.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}

	px.stop()
	// failsPromptly runs op and checks that it fails within a few seconds
	// with an error naming the address.
	failsPromptly := func(what string, op func() error) {
		t.Helper()
		start := time.Now()
		err := op()
		took := time.Since(start)
		if err == nil {
			t.Fatalf("%s succeeded with Redis unreachable", what)
		}
		if !strings.Contains(err.Error(), px.addr) {
			t.Fatalf("%s: error %q does not name %s", what, err, px.addr)
		}
		if errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s: an outage reported as ErrNotFound: %v", what, err)
		}
		if took > 5*time.Second {
			t.Fatalf("%s took %v to fail", what, took)
		}
		t.Logf("%s failed after %v: %v", what, took.Round(time.Millisecond), err)
	}
	failsPromptly("small put", func() error {
		_, err := r.Put(ctx, inv, 1, strings.NewReader("small"))
		return err
	})
	failsPromptly("big put", func() error {
		_, err := r.Put(ctx, inv, 1, bytes.NewReader(storetest.Pattern(2<<20, 2)))
		return err
	})
	failsPromptly("open", func() error {
		_, err := r.Open(ctx, key)
		return err
	})
	failsPromptly("read", func() error {
		_, err := io.Copy(io.Discard, rc)
		return err
	})
	failsPromptly("release", func() error { return r.Release(ctx, key) })
	failsPromptly("drop", func() error { return r.DropInvocation(ctx, "other") })

	px.start()
	// go-redis dials new connections; allow it a few seconds.
	deadline := time.Now().Add(10 * time.Second)
	var after string
	for {
		after, err = r.Put(ctx, inv, 1, strings.NewReader("after"))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("put still failing 10 s after Redis came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got, err := store.ReadAll(ctx, r, after); err != nil || string(got) != "after" {
		t.Fatalf("read after the outage: %q, %v", got, err)
	}
	// The value written before the outage is intact.
	if got, err := store.ReadAll(ctx, r, key); err != nil || !bytes.Equal(got, before) {
		t.Fatalf("read of the value from before the outage: %d bytes, %v", len(got), err)
	}
	if err := r.DropInvocation(ctx, inv); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkRedis compares the store (Put, ReadAll, Release) with a bare
// go-redis SET and GET of the same bytes on the same server ("floor").
func BenchmarkRedis(b *testing.B) {
	addr := redisAddr(b)
	ctx := context.Background()
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}} {
		data := storetest.Pattern(size.n, 9)
		b.Run(size.name+"/store", func(b *testing.B) {
			r := newTestRedis(b, store.RedisConfig{Addr: addr, Prefix: testPrefix(b, addr)})
			defer r.Close()
			benchPutGet(b, r, data, true)
		})
		// The store again, with the value streamed to io.Discard instead of
		// collected by ReadAll: io.ReadAll grows its buffer as it goes, and
		// that costs as much as the rest for a 1 MiB value on a machine
		// where fresh memory is slow.
		b.Run(size.name+"/stream", func(b *testing.B) {
			r := newTestRedis(b, store.RedisConfig{Addr: addr, Prefix: testPrefix(b, addr)})
			defer r.Close()
			b.SetBytes(int64(size.n))
			for b.Loop() {
				key, err := r.Put(ctx, "bench", 1, store.Bytes(data))
				if err != nil {
					b.Fatal(err)
				}
				rc, err := r.Open(ctx, key)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, rc)
				rc.Close()
				if err != nil || n != int64(len(data)) {
					b.Fatalf("read %d bytes: %v", n, err)
				}
				if err := r.Release(ctx, key); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(size.name+"/floor", func(b *testing.B) {
			c := redis.NewClient(&redis.Options{Addr: addr, DisableIdentity: true})
			defer c.Close()
			key := testPrefix(b, addr) + ":floor"
			b.SetBytes(int64(size.n))
			for b.Loop() {
				if err := c.Set(ctx, key, data, 0).Err(); err != nil {
					b.Fatal(err)
				}
				got, err := c.Get(ctx, key).Bytes()
				if err != nil || len(got) != len(data) {
					b.Fatalf("get %d bytes: %v", len(got), err)
				}
			}
		})
	}
}
