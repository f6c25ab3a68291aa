package testcluster

import (
	"os"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/agents/worker"
)

// FullProfile returns the data plane of the full profile on the services
// that scripts/services/all.sh started (it reads the variables that script
// prints), or skips the test, saying what to run, when they are unset.
func FullProfile(tb testing.TB) worker.DataConfig {
	tb.Helper()
	d := worker.DataConfig{
		Profile:    worker.ProfileFull,
		RedisAddr:  os.Getenv("FAASFLOW_REDIS_ADDR"),
		CouchDBURL: os.Getenv("FAASFLOW_COUCHDB_URL"),
	}
	brokers := os.Getenv("FAASFLOW_KAFKA_BROKERS")
	if d.RedisAddr == "" || brokers == "" || d.CouchDBURL == "" {
		tb.Skip("the full profile needs Redis, Kafka and CouchDB: run `eval \"$(scripts/services/all.sh start)\"` first")
	}
	d.KafkaBrokers = strings.Split(brokers, ",")
	return d
}
