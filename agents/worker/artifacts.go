package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
)

// artifacts is the worker's cache of function executables, fetched from the
// gateway by their sha256.
type artifacts struct {
	dir     string
	gateway string
	client  *http.Client
	mu      sync.Mutex
}

// fetch returns the path of the artifact, downloading it if it is not cached.
func (a *artifacts) fetch(ctx context.Context, sum string) (string, error) {
	if _, err := hex.DecodeString(sum); err != nil || len(sum) != 64 {
		return "", fmt.Errorf("artifact %q is not a sha256", sum)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	path := filepath.Join(a.dir, sum)
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.gateway+"/v1/artifacts/"+sum, nil)
	if err != nil {
		return "", err
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch artifact %s from gateway: %w", sum[:12], err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch artifact %s from gateway: %s", sum[:12], resp.Status)
	}
	tmp, err := os.CreateTemp(a.dir, sum+".*.tmp")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), resp.Body); err != nil {
		tmp.Close()
		return "", fmt.Errorf("download artifact %s: %w", sum[:12], err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return "", fmt.Errorf("artifact %s arrived corrupt (sha256 %s)", sum[:12], got[:12])
	}
	if err := os.Chmod(tmp.Name(), 0o755); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}
