// Package services gives tests the addresses of the real services that
// scripts/services/ starts, read from the variables those scripts print.
// A test that needs a service that is not running is skipped with a message
// saying what to start; CI starts them all and fails on any skip.
package services

import (
	"os"
	"strings"
	"testing"
)

// lookup returns the variable's value, or skips tb naming the script.
func lookup(tb testing.TB, variable, script string) string {
	tb.Helper()
	v := os.Getenv(variable)
	if v == "" {
		tb.Skipf(`%s is not set: run eval "$(scripts/services/%s.sh start)"`, variable, script)
	}
	return v
}

// Redis returns the Redis server's host:port.
func Redis(tb testing.TB) string {
	tb.Helper()
	return lookup(tb, "FAASFLOW_REDIS_ADDR", "redis")
}

// Kafka returns the Kafka brokers' host:port list.
func Kafka(tb testing.TB) []string {
	tb.Helper()
	return strings.Split(lookup(tb, "FAASFLOW_KAFKA_BROKERS", "kafka"), ",")
}

// CouchDB returns the CouchDB-compatible server's URL.
func CouchDB(tb testing.TB) string {
	tb.Helper()
	return lookup(tb, "FAASFLOW_COUCHDB_URL", "couchdb")
}

// Docker returns the Docker daemon's address.
func Docker(tb testing.TB) string {
	tb.Helper()
	return lookup(tb, "FAASFLOW_DOCKER_HOST", "docker")
}
