package testcluster

import (
	"testing"

	"github.com/faasflow/faasflow-go/agents/worker"
	"github.com/faasflow/faasflow-go/internal/services"
)

// FullProfile returns the data plane of the full profile on the services
// that scripts/services/all.sh started, or skips the test, saying what to
// start, when one of them is not running.
func FullProfile(tb testing.TB) worker.DataConfig {
	tb.Helper()
	return worker.DataConfig{
		Profile:      worker.ProfileFull,
		RedisAddr:    services.Redis(tb),
		KafkaBrokers: services.Kafka(tb),
		CouchDBURL:   services.CouchDB(tb),
	}
}
