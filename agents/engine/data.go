package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/api"
)

// datum is a value held for a consumer: inline bytes, or a key in the
// local store owning one reference.
type datum struct {
	inline []byte
	key    string
	size   int
	via    string // the tier that brought it here
	sent   int64  // when its producer sent it, Unix ns (0 if unknown)
}

// asyncPutter is a store that hands out a value's key once the first part
// is written and writes the rest in the background (Kafka), so the consumer
// can start reading while the producer still writes.
type asyncPutter interface {
	PutAsync(ctx context.Context, inv string, refs int, r io.Reader) (key string, done <-chan error, err error)
}

// hold turns the value of a value or item message into a datum for its
// targets on this worker: inline when small, else in the local store with
// a reference per target. remoteTier names the remote tier the value came
// through, or is "" for values produced here or sent inline.
func (e *Engine) hold(inv *invocation, m *api.Message, data []byte, remoteTier string) (*datum, error) {
	if m.Kind != api.KindValue && m.Kind != api.KindItem {
		return nil, nil
	}
	d := &datum{inline: data, size: len(data), via: remoteTier, sent: m.SentNS}
	if len(data) <= e.cfg.InlineMax {
		if d.via == "" {
			d.via = "inline"
		}
		return d, nil
	}
	if d.via == "" {
		d.via = store.TierOf(e.local)
	}
	ctx, cancel := context.WithDeadline(context.Background(), inv.deadline)
	defer cancel()
	key, err := e.local.Put(ctx, inv.id, len(m.Targets), store.Bytes(data))
	if err != nil {
		return nil, fmt.Errorf("keep output of %s (%d bytes) in the %s store: %w", m.From, len(data), store.TierOf(e.local), err)
	}
	d.inline, d.key = nil, key
	return d, nil
}

// release gives up d's reference in the local store.
func (e *Engine) release(d *datum) {
	if d == nil || d.key == "" {
		return
	}
	e.releaseKey(d.key)
}

func (e *Engine) releaseKey(key string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.local.Release(ctx, key); err != nil {
		e.log.Warn("release a stored value", "key", key, "tier", store.TierOf(e.local), "err", err)
	}
}

// viewer is a store that can hand out a held value without copying it
// (*store.Memory can).
type viewer interface {
	Get(key string) (data []byte, ok bool)
}

// readLocal returns a value held in the local store for a run.
func (e *Engine) readLocal(key string) ([]byte, error) {
	if v, ok := e.local.(viewer); ok {
		if data, ok := v.Get(key); ok {
			return data, nil
		}
		return nil, store.ErrNotFound
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return store.ReadAll(ctx, e.local, key)
}

// putRemote writes data to the remote store for refs readers (one per
// consumer worker) and returns the reference the messages carry. With a
// store that writes in the background, a failure after the key was handed
// out fails the invocation.
func (e *Engine) putRemote(inv *invocation, from string, data []byte, refs int) (*api.DataRef, error) {
	inv.putRemote.Store(true)
	tier := store.TierOf(e.remote)
	ctx, cancel := context.WithDeadline(context.Background(), inv.deadline)
	var key string
	var err error
	if a, ok := e.remote.(asyncPutter); ok {
		var done <-chan error
		key, done, err = a.PutAsync(ctx, inv.id, refs, store.Bytes(data))
		if err == nil {
			go func() {
				defer cancel()
				if err := <-done; err != nil {
					e.fail(inv, &failure{function: from, err: fmt.Errorf("write output of %s to the %s store: %w", from, tier, err)})
				}
			}()
		} else {
			cancel()
		}
	} else {
		key, err = e.remote.Put(ctx, inv.id, refs, store.Bytes(data))
		cancel()
	}
	if err != nil {
		return nil, fmt.Errorf("write output of %s (%d bytes) to the %s store: %w", from, len(data), tier, err)
	}
	return &api.DataRef{Tier: tier, Key: key, Size: int64(len(data))}, nil
}

// fetchRemote reads the value m refers to from the remote store and then
// handles m as if the value had come with it.
func (e *Engine) fetchRemote(inv *invocation, m *api.Message) {
	ref := m.Ref
	if e.remote == nil {
		e.fail(inv, &failure{function: m.From, err: fmt.Errorf(
			"output of %s waits in the %s store, but worker %s has no remote store: start every worker with the same data profile",
			m.From, ref.Tier, e.cfg.Worker)})
		return
	}
	ctx, cancel := context.WithDeadline(context.Background(), inv.deadline)
	defer cancel()
	data, err := store.Take(ctx, e.remote, ref.Key)
	if data == nil && err != nil {
		f := &failure{function: m.From, err: fmt.Errorf("read output of %s from the %s store: %w", m.From, ref.Tier, err)}
		if ref.Tier == "direct" && !errors.Is(err, store.ErrNotFound) {
			f.peer = inv.dep.Placement[m.From] // the value waits on its producer's worker
		}
		e.fail(inv, f)
		return
	}
	if err != nil {
		e.log.Warn("release a remote value", "invocation", inv.id, "tier", ref.Tier, "err", err)
	}
	local := *m
	local.Ref = nil
	e.receive(inv, &local, data, ref.Tier)
}
