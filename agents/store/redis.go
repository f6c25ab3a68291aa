package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig configures a Redis store.
type RedisConfig struct {
	// Addr is the server's host:port.
	Addr string
	// Password and DB select the account and database; both may be empty.
	Password string
	DB       int
	// Prefix namespaces every key the store writes (for example the worker
	// ID), so several stores can share one Redis. Default "faasflow".
	Prefix string
	// DialTimeout, ReadTimeout and WriteTimeout bound each connection
	// attempt and each socket read or write. Defaults 5 s, 5 s, 5 s.
	DialTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// PartialTTL is how long the pieces of a value survive if its writer
	// dies before finishing it. Default 1 h.
	PartialTTL time.Duration
}

// Redis stores values in a Redis server, so that they outlive the agent's
// memory and can be read by other processes on the host. It is safe for
// concurrent use.
//
// A value with key K is kept in these Redis keys, P being the prefix:
//
//	P:v:K    the value (a string)
//	P:r:K    its remaining references (an integer)
//	P:w:K    the value while it is being written, renamed to P:v:K at the end
//	P:i:INV  the set of the keys K of invocation INV
//	P:seq    the sequence that makes keys unique
//
// Values move in pieces of ChunkSize: Put appends them to P:w:K, several
// per round trip, and a reader fetches them with GETRANGE as it goes, a
// few at a time. A value given with Bytes is written from the caller's
// slice in 1 MiB pieces with SETRANGE (see putPieces).
type Redis struct {
	cfg    RedisConfig
	client *redis.Client

	mu   sync.Mutex
	next int64 // next reserved sequence number, 0 before the first block
	last int64 // last reserved sequence number
}

var _ Store = (*Redis)(nil)

const (
	// redisBatch is how many pieces of a value go in one round trip, in
	// Put and in a reader: 4 pieces (1 MiB) bound the memory a value takes
	// while most of the round trips' latency is hidden.
	redisBatch = 4
	// redisSeqBlock is how many sequence numbers Put reserves at once, so
	// most Puts do not need a round trip for their key.
	redisSeqBlock = 1024
	// redisDirectPiece is the piece size of a value given with Bytes: it
	// is in memory already, so larger pieces cost no memory, and they save
	// Redis work per piece.
	redisDirectPiece = redisBatch * ChunkSize
)

// batchPool holds Put's buffers of redisBatch pieces.
var batchPool = sync.Pool{New: func() any {
	b := make([]byte, redisBatch*ChunkSize)
	return &b
}}

// piecePool holds readers' buffers of one piece. The 2 spare bytes let
// go-redis read a piece and its trailing CRLF in one go.
var piecePool = sync.Pool{New: func() any {
	b := make([]byte, ChunkSize+2)
	return &b
}}

// redisFinish publishes a value written under its temporary key
// (KEYS: temporary key, value key, references key, invocation set;
// ARGV: key, size, references). It returns 1 when the value is published,
// 0 when its invocation was dropped meanwhile, and -1 when the temporary
// key does not hold size bytes (it expired): both discard the pieces.
var redisFinish = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then
	redis.call('UNLINK', KEYS[1])
	return 0
end
if redis.call('STRLEN', KEYS[1]) ~= tonumber(ARGV[2]) then
	redis.call('UNLINK', KEYS[1])
	redis.call('SREM', KEYS[4], ARGV[1])
	return -1
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('PERSIST', KEYS[2])
redis.call('SET', KEYS[3], ARGV[3])
return 1
`)

// redisRelease drops one reference (KEYS: references key, value key,
// invocation set; ARGV: key) and deletes the value with the last one. It
// returns the references left, or -1 for an unknown key.
var redisRelease = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
	return -1
end
local n = redis.call('DECR', KEYS[1])
if n <= 0 then
	redis.call('UNLINK', KEYS[1], KEYS[2])
	redis.call('SREM', KEYS[3], ARGV[1])
end
return n
`)

// NewRedis connects to the Redis server at cfg.Addr and checks that it
// answers.
func NewRedis(cfg RedisConfig) (*Redis, error) {
	// go-redis prints connection trouble to stderr on its own; the store's
	// errors already say it, through the agent's logger.
	quietRedis.Do(func() { redis.SetLogger(discardLogging{}) })
	if cfg.Addr == "" {
		return nil, errors.New("redis store: no address")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "faasflow"
	}
	if cfg.DialTimeout <= 0 {
		cfg.DialTimeout = 5 * time.Second
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 5 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	if cfg.PartialTTL <= 0 {
		cfg.PartialTTL = time.Hour
	}
	client := redis.NewClient(&redis.Options{
		Addr:         cfg.Addr,
		Password:     cfg.Password,
		DB:           cfg.DB,
		DialTimeout:  cfg.DialTimeout,
		ReadTimeout:  cfg.ReadTimeout,
		WriteTimeout: cfg.WriteTimeout,
		// No automatic retries: APPEND and the release script are not
		// idempotent, and replaying one whose reply was lost would append a
		// piece twice or drop two references. A failed operation returns
		// its error; the pool drops broken connections and dials new ones.
		MaxRetries:            -1,
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
	})
	r := &Redis{cfg: cfg, client: client}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.DialTimeout+cfg.ReadTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		client.Close()
		return nil, r.fail("connect", err)
	}
	return r, nil
}

// Tier reports "redis".
func (r *Redis) Tier() string { return "redis" }

// Close closes the connections to the server.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return r.fail("close", err)
	}
	return nil
}

// fail wraps err with the server's address and the operation.
func (r *Redis) fail(op string, err error) error {
	return fmt.Errorf("redis %s: %s: %w", r.cfg.Addr, op, err)
}

func (r *Redis) valueKey(key string) string   { return r.cfg.Prefix + ":v:" + key }
func (r *Redis) refsKey(key string) string    { return r.cfg.Prefix + ":r:" + key }
func (r *Redis) partialKey(key string) string { return r.cfg.Prefix + ":w:" + key }
func (r *Redis) invKey(inv string) string     { return r.cfg.Prefix + ":i:" + inv }

// invOf returns the invocation of a key made by Put ("INV/N").
func invOf(key string) (string, bool) {
	i := strings.LastIndexByte(key, '/')
	if i < 0 {
		return "", false
	}
	return key[:i], true
}

// nextSeq returns a sequence number no other Put of any store sharing the
// prefix gets. Numbers are reserved from Redis in blocks; the lock is not
// held during the round trip, so that Puts do not queue behind one that
// waits for an unreachable server.
func (r *Redis) nextSeq(ctx context.Context) (int64, error) {
	r.mu.Lock()
	if r.next > 0 && r.next <= r.last {
		n := r.next
		r.next++
		r.mu.Unlock()
		return n, nil
	}
	r.mu.Unlock()
	last, err := r.client.IncrBy(ctx, r.cfg.Prefix+":seq", redisSeqBlock).Result()
	if err != nil {
		return 0, err
	}
	first := last - redisSeqBlock + 1
	r.mu.Lock()
	defer r.mu.Unlock()
	// Keep the rest of the block unless another Put installed one meanwhile.
	if r.next == 0 || r.next > r.last {
		r.next, r.last = first+1, last
	}
	return first, nil
}

// Put writes the value read from src for inv, to be read by refs readers.
// A value that fits in one piece is written in one round trip; a larger
// one is written to a temporary key a batch of pieces at a time and
// renamed when complete, so a failed writer never leaves a readable
// partial value. A value given with Bytes is sent from the caller's slice,
// without a copy, in pieces of 1 MiB. With refs <= 0 nothing is stored and
// the key is "".
func (r *Redis) Put(ctx context.Context, inv string, refs int, src io.Reader) (string, error) {
	if refs <= 0 {
		return "", nil
	}
	seq, err := r.nextSeq(ctx)
	if err != nil {
		return "", r.fail("put: reserve a key", err)
	}
	key := inv + "/" + strconv.FormatInt(seq, 10)
	in := newBatchReader(src)
	defer in.close()
	b, last, err := in.next()
	if err != nil {
		return "", r.fail("put "+key, err)
	}
	// One piece, or a value given with Bytes that fits in one batch (it is
	// in memory already): written in one round trip.
	if last && (len(b) <= ChunkSize || in.direct) {
		_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, r.invKey(inv), key)
			p.Set(ctx, r.refsKey(key), refs, 0)
			p.Do(ctx, "set", r.valueKey(key), b)
			return nil
		})
		if err != nil {
			return "", r.fail("put "+key, err)
		}
		return key, nil
	}
	if err := r.putPieces(ctx, inv, key, refs, in, b, last); err != nil {
		// Best effort: the pieces also expire after PartialTTL.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.WriteTimeout)
		defer cancel()
		r.client.TxPipelined(cctx, func(p redis.Pipeliner) error {
			p.Unlink(cctx, r.partialKey(key))
			p.SRem(cctx, r.invKey(inv), key)
			return nil
		})
		return "", r.fail("put "+key, err)
	}
	return key, nil
}

// putPieces writes the value to key's temporary key, starting with the
// batch b already read, and publishes it.
//
// Pieces of a value of unknown size are appended. Redis grows the string
// as they come, copying it each time it outgrows its allocation, which
// makes large values slow to write. The size of a value given with Bytes
// is known: its last piece is written first, at its offset, so that Redis
// allocates the whole string once, and the others are written in place
// with SETRANGE.
func (r *Redis) putPieces(ctx context.Context, inv, key string, refs int, in *batchReader, b []byte, last bool) error {
	tmp := r.partialKey(key)
	total, tailOff := int64(-1), int64(-1) // known size, offset of the last piece
	piece := ChunkSize
	if in.direct {
		piece = redisDirectPiece
		total = int64(len(in.all))
		tailOff = (total - 1) / int64(piece) * int64(piece)
	}
	var off int64 // offset of the next piece
	first := true
	for {
		p := r.client.Pipeline()
		var writes []*redis.Cmd
		var wants []int64 // the string's length each write must report
		if first {
			// In the invocation's set from the start, so that
			// DropInvocation deletes the pieces of an unfinished value.
			p.SAdd(ctx, r.invKey(inv), key)
			if total >= 0 {
				writes = append(writes, p.Do(ctx, "setrange", tmp, tailOff, in.all[tailOff:]))
				wants = append(wants, total)
			}
			first = false
		}
		for len(b) > 0 {
			n := min(len(b), piece)
			switch {
			case total < 0:
				writes = append(writes, p.Do(ctx, "append", tmp, b[:n]))
				wants = append(wants, off+int64(n))
			case off != tailOff:
				// A write that does not report the whole size means the
				// temporary key expired and was started again.
				writes = append(writes, p.Do(ctx, "setrange", tmp, off, b[:n]))
				wants = append(wants, total)
			}
			off += int64(n)
			b = b[n:]
		}
		if len(writes) > 0 {
			p.PExpire(ctx, tmp, r.cfg.PartialTTL)
			if _, err := p.Exec(ctx); err != nil {
				return err
			}
			for i, c := range writes {
				n, err := c.Int64()
				if err != nil {
					return err
				}
				if n != wants[i] {
					return fmt.Errorf("partial value is %d bytes after a write, want %d (it expired or was dropped)", n, wants[i])
				}
			}
		}
		if last {
			break
		}
		var err error
		if b, last, err = in.next(); err != nil {
			return err
		}
	}
	keys := []string{tmp, r.valueKey(key), r.refsKey(key), r.invKey(inv)}
	res, err := redisFinish.Run(ctx, r.client, keys, key, off, refs).Int64()
	if err != nil {
		return err
	}
	switch res {
	case 0:
		return fmt.Errorf("invocation %s was dropped while the value was written", inv)
	case -1:
		return errors.New("partial value expired before it was complete")
	}
	return nil
}

// batchReader reads a value in batches of up to redisBatch pieces. A value
// given with Bytes is sliced, not copied.
type batchReader struct {
	src    io.Reader
	direct bool   // the value was given with Bytes:
	all    []byte // the value
	rest   []byte // what is left of it
	buf    *[]byte
}

func newBatchReader(src io.Reader) *batchReader {
	if br, ok := src.(*byteReader); ok {
		// Take what is left unread, as Put reads its input to the end.
		all := br.take()
		return &batchReader{direct: true, all: all, rest: all}
	}
	return &batchReader{src: src}
}

// next returns the next batch; last reports that it ends the value. The
// batch is valid until the next call.
func (in *batchReader) next() (b []byte, last bool, err error) {
	if in.direct {
		n := min(len(in.rest), redisBatch*ChunkSize)
		b, in.rest = in.rest[:n], in.rest[n:]
		return b, len(in.rest) == 0, nil
	}
	if in.buf == nil {
		in.buf = batchPool.Get().(*[]byte)
	}
	n, err := io.ReadFull(in.src, *in.buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return (*in.buf)[:n], true, nil
	case err != nil:
		return nil, false, fmt.Errorf("read the value: %w", err)
	}
	return (*in.buf)[:n], false, nil
}

func (in *batchReader) close() {
	if in.buf != nil {
		batchPool.Put(in.buf)
		in.buf = nil
	}
}

// Open returns a reader of the value under key. The first piece comes with
// the check that the value exists; the reader fetches the others, a batch
// at a time, as it is read.
func (r *Redis) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	data := r.valueKey(key)
	buf := piecePool.Get().(*[]byte)
	p := r.client.Pipeline()
	// GETRANGE before EXISTS: a value is never written again once
	// published, so if it still exists after the GETRANGE, the piece read is
	// the value's.
	head := redis.NewZeroCopyStringCmd(ctx, *buf, "getrange", data, 0, ChunkSize-1)
	p.Process(ctx, head)
	size := p.StrLen(ctx, data)
	exists := p.Exists(ctx, data)
	if _, err := p.Exec(ctx); err != nil {
		piecePool.Put(buf)
		return nil, r.fail("open "+key, err)
	}
	if exists.Val() == 0 {
		piecePool.Put(buf)
		return nil, r.fail("open "+key, ErrNotFound)
	}
	rd := &redisReader{r: r, ctx: ctx, key: key, size: size.Val(), bufs: []*[]byte{buf}}
	if err := rd.check(head, 0); err != nil {
		rd.Close()
		return nil, err
	}
	rd.cur = head.Bytes()
	rd.next = int64(len(rd.cur))
	return rd, nil
}

var quietRedis sync.Once

type discardLogging struct{}

func (discardLogging) Printf(context.Context, string, ...any) {}

// redisReader reads a value in pieces with GETRANGE.
type redisReader struct {
	r    *Redis
	ctx  context.Context
	key  string
	size int64 // the value's size
	next int64 // offset of the next piece to fetch

	bufs   []*[]byte // piece buffers, from piecePool
	pieces [][]byte  // fetched pieces not read yet
	cur    []byte    // what is left of the piece being read
	err    error
}

var errReaderClosed = errors.New("reader closed")

// Len reports the bytes not read yet (ReadAll allocates them at once).
func (rd *redisReader) Len() int {
	n := rd.size - rd.next + int64(len(rd.cur))
	for _, p := range rd.pieces {
		n += int64(len(p))
	}
	return int(n)
}

// Read reads the value, fetching the next batch of pieces when the
// fetched ones are read.
func (rd *redisReader) Read(p []byte) (int, error) {
	for len(rd.cur) == 0 {
		if rd.err != nil {
			return 0, rd.err
		}
		if len(rd.pieces) > 0 {
			rd.cur, rd.pieces = rd.pieces[0], rd.pieces[1:]
			continue
		}
		if rd.next >= rd.size {
			return 0, io.EOF
		}
		rd.err = rd.fetch()
	}
	n := copy(p, rd.cur)
	rd.cur = rd.cur[n:]
	return n, nil
}

// fetch reads the next batch of pieces in one round trip.
func (rd *redisReader) fetch() error {
	n := int((rd.size - rd.next + ChunkSize - 1) / ChunkSize)
	n = min(n, redisBatch)
	for len(rd.bufs) < n {
		rd.bufs = append(rd.bufs, piecePool.Get().(*[]byte))
	}
	data := rd.r.valueKey(rd.key)
	p := rd.r.client.Pipeline()
	cmds := make([]*redis.ZeroCopyStringCmd, n)
	for i := range cmds {
		off := rd.next + int64(i)*ChunkSize
		cmds[i] = redis.NewZeroCopyStringCmd(rd.ctx, *rd.bufs[i], "getrange", data, off, off+ChunkSize-1)
		p.Process(rd.ctx, cmds[i])
	}
	if _, err := p.Exec(rd.ctx); err != nil {
		return rd.r.fail("read "+rd.key, err)
	}
	rd.pieces = rd.pieces[:0]
	for _, c := range cmds {
		if err := rd.check(c, rd.next); err != nil {
			return err
		}
		rd.pieces = append(rd.pieces, c.Bytes())
		rd.next += int64(c.Val())
	}
	return nil
}

// check reports an error unless c read the whole piece at offset off: a
// short piece means the value was deleted while being read.
func (rd *redisReader) check(c *redis.ZeroCopyStringCmd, off int64) error {
	if err := c.Err(); err != nil {
		return rd.r.fail("read "+rd.key, err)
	}
	if want := min(rd.size-off, ChunkSize); int64(c.Val()) != want {
		return rd.r.fail("read "+rd.key, fmt.Errorf("deleted while being read: %w", ErrNotFound))
	}
	return nil
}

// Close returns the reader's buffers.
func (rd *redisReader) Close() error {
	for _, b := range rd.bufs {
		piecePool.Put(b)
	}
	rd.bufs, rd.pieces, rd.cur = nil, nil, nil
	rd.err = errReaderClosed
	return nil
}

// Release gives up one reference to the value under key, deleting it with
// the last one. Unknown keys are ignored.
func (r *Redis) Release(ctx context.Context, key string) error {
	inv, ok := invOf(key)
	if !ok {
		return nil
	}
	keys := []string{r.refsKey(key), r.valueKey(key), r.invKey(inv)}
	if err := redisRelease.Run(ctx, r.client, keys, key).Err(); err != nil {
		return r.fail("release "+key, err)
	}
	return nil
}

// DropInvocation deletes every value of inv, and the pieces of those being
// written (their Put then fails).
func (r *Redis) DropInvocation(ctx context.Context, inv string) error {
	var members *redis.StringSliceCmd
	_, err := r.client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		members = p.SMembers(ctx, r.invKey(inv))
		p.Unlink(ctx, r.invKey(inv))
		return nil
	})
	if err != nil {
		return r.fail("drop "+inv, err)
	}
	keys := members.Val()
	for len(keys) > 0 {
		n := min(len(keys), 300)
		del := make([]string, 0, 3*n)
		for _, k := range keys[:n] {
			del = append(del, r.valueKey(k), r.refsKey(k), r.partialKey(k))
		}
		if err := r.client.Unlink(ctx, del...).Err(); err != nil {
			return r.fail("drop "+inv, err)
		}
		keys = keys[n:]
	}
	return nil
}
