package worker

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/agents/store"
)

// Data profiles: which stores hold values too large to ride inline.
const (
	// ProfileEmbedded needs no service: the agent's memory holds values for
	// functions on the same worker, and other workers stream them straight
	// from the producer's agent.
	ProfileEmbedded = "embedded"
	// ProfileFull is FaaSFlow's deployment: Redis holds same-worker values,
	// Kafka carries values across workers, CouchDB receives telemetry.
	ProfileFull = "full"
)

// DataConfig chooses the worker's data plane.
type DataConfig struct {
	// Profile is ProfileEmbedded (default) or ProfileFull.
	Profile string
	// Remote overrides the profile's remote tier: "direct", "kafka" or
	// "couchdb".
	Remote string
	// MemoryCap bounds each memory store in bytes (default 1 GiB); values
	// past it spill to <data-dir>/spill.
	MemoryCap int64
	// RedisAddr, KafkaBrokers and CouchDBURL locate the services.
	RedisAddr    string
	KafkaBrokers []string
	CouchDBURL   string
	// Namespace keeps clusters that share services apart: it prefixes this
	// worker's Redis keys and Kafka topics (default "faasflow").
	Namespace string
}

// stores opens the engine's stores for the configured profile. direct is
// the Direct store whose values this agent serves over HTTP; it is always
// there, so values written before a profile change stay readable.
func openStores(cfg Config) (st engine.Stores, direct *store.Direct, err error) {
	d := cfg.Data
	if d.Profile == "" {
		d.Profile = ProfileEmbedded
	}
	if d.MemoryCap <= 0 {
		d.MemoryCap = 1 << 30
	}
	if d.Namespace == "" {
		d.Namespace = "faasflow"
	}
	owner := d.Namespace + "." + cfg.ID
	memory := func(name string) (*store.Memory, error) {
		return store.NewMemoryWith(store.MemoryConfig{Cap: d.MemoryCap, SpillDir: filepath.Join(cfg.DataDir, "spill", name)})
	}
	served, err := memory("served")
	if err != nil {
		return st, nil, err
	}
	direct = store.NewDirect(served, cfg.URL, nil)
	defer func() {
		if err != nil {
			closeStores(st, direct)
		}
	}()
	remote := d.Remote
	switch d.Profile {
	case ProfileEmbedded:
		if st.Local, err = memory("local"); err != nil {
			return st, nil, err
		}
		if remote == "" {
			remote = "direct"
		}
	case ProfileFull:
		if d.RedisAddr == "" {
			return st, nil, errors.New("the full data profile needs Redis: give --redis ADDR (scripts/services/redis.sh start prints it)")
		}
		if st.Local, err = store.NewRedis(store.RedisConfig{Addr: d.RedisAddr, Prefix: owner}); err != nil {
			return st, nil, err
		}
		if remote == "" {
			remote = "kafka"
		}
	default:
		return st, nil, fmt.Errorf("unknown data profile %q: use %s or %s", d.Profile, ProfileEmbedded, ProfileFull)
	}
	switch remote {
	case "direct":
		st.Remote = direct
	case "kafka":
		if len(d.KafkaBrokers) == 0 {
			return st, nil, errors.New("the kafka remote tier needs brokers: give --kafka HOST:PORT (scripts/services/kafka.sh start prints it)")
		}
		k, err := store.NewKafka(store.KafkaConfig{Brokers: d.KafkaBrokers, Owner: owner})
		if err != nil {
			return st, nil, err
		}
		st.Remote = k
		// Topics a crashed run of this worker left behind.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := k.Cleanup(ctx); err != nil {
			return st, nil, fmt.Errorf("delete this worker's old topics: %w", err)
		}
	case "couchdb":
		if d.CouchDBURL == "" {
			return st, nil, errors.New("the couchdb remote tier needs a server: give --couchdb URL (scripts/services/couchdb.sh start prints it)")
		}
		if st.Remote, err = store.NewCouchDB(store.CouchDBConfig{URL: d.CouchDBURL}); err != nil {
			return st, nil, err
		}
	default:
		return st, nil, fmt.Errorf("unknown remote tier %q: use direct, kafka or couchdb", remote)
	}
	return st, direct, nil
}

// closeStores closes every store once. A worker that stops is done with
// its Kafka topics, including those still in their grace period.
func closeStores(st engine.Stores, direct *store.Direct) {
	if k, ok := st.Remote.(*store.Kafka); ok {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		k.Cleanup(ctx)
		cancel()
	}
	for _, s := range []store.Store{st.Local, st.Remote} {
		if s != nil && s != store.Store(direct) {
			s.Close()
		}
	}
	direct.Close()
}
