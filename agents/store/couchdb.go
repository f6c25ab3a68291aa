package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-kivik/kivik/v4"
	"github.com/go-kivik/kivik/v4/couchdb"
)

// CouchDBConfig configures a CouchDB store.
type CouchDBConfig struct {
	// URL is the server's address, for example http://127.0.0.1:5984;
	// credentials may be given in it.
	URL string
	// DB is the database holding the values, created if missing. Default
	// "faasflow_data".
	DB string
}

// CouchDB stores values in a CouchDB database (or a compatible server such
// as pouchdb-server), for values that must outlive the worker.
//
// Each value is one document, its key being the document ID
// "v:INV/RANDOM.REFS": the invocation comes first so that DropInvocation
// finds the invocation's documents with one _all_docs range query (the
// "v:" keeps IDs clear of the "_" CouchDB reserves), and the ID ends with
// the number of readers, so that uploading the value — the document's
// attachment "value", streamed in and out — is the one request that
// creates the document. Releases are counted in the document's "released"
// field; the last one deletes it.
type CouchDB struct {
	cfg    CouchDBConfig
	where  string // the URL without credentials, for errors
	client *kivik.Client
	db     *kivik.DB
}

var _ Store = (*CouchDB)(nil)

const (
	couchAttachment = "value"
	// couchRetries bounds the attempts of an update that loses a race
	// with another update of the same document (a revision conflict).
	couchRetries = 20
)

// NewCouchDB connects to the server at cfg.URL and creates the database
// if it does not exist.
func NewCouchDB(cfg CouchDBConfig) (*CouchDB, error) {
	if cfg.URL == "" {
		return nil, errors.New("couchdb store: no URL")
	}
	if cfg.DB == "" {
		cfg.DB = "faasflow_data"
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("couchdb store: URL: %w", err)
	}
	c := &CouchDB{cfg: cfg, where: u.Redacted()}
	// Values are sent as they are: gzip would cost CPU for little gain.
	c.client, err = kivik.New("couch", cfg.URL, couchdb.OptionNoRequestCompression())
	if err != nil {
		return nil, c.fail("connect", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	exists, err := c.client.DBExists(ctx, cfg.DB)
	if err != nil {
		c.client.Close()
		return nil, c.fail("check database "+cfg.DB, err)
	}
	if !exists {
		err := c.client.CreateDB(ctx, cfg.DB)
		// 412: another process created it meanwhile.
		if err != nil && kivik.HTTPStatus(err) != http.StatusPreconditionFailed {
			c.client.Close()
			return nil, c.fail("create database "+cfg.DB, err)
		}
	}
	c.db = c.client.DB(cfg.DB)
	return c, nil
}

// Tier reports "couchdb".
func (c *CouchDB) Tier() string { return "couchdb" }

// Close closes the database handle and the client's connections.
func (c *CouchDB) Close() error {
	err := c.db.Close()
	if cerr := c.client.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return c.fail("close", err)
	}
	return nil
}

// fail wraps err with the server's address and the operation.
func (c *CouchDB) fail(op string, err error) error {
	return fmt.Errorf("couchdb %s: %s: %w", c.where, op, err)
}

// couchPrefix is the start of the document IDs of inv's values.
func couchPrefix(inv string) string { return "v:" + inv + "/" }

// couchRefs returns the number of readers a document ID carries.
func couchRefs(key string) int {
	i := strings.LastIndexByte(key, '.')
	if i < 0 {
		return 1
	}
	n, err := strconv.Atoi(key[i+1:])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// Put uploads the value, streamed from src, as the attachment of a new
// document, which the upload creates. If the upload fails the document is
// deleted, should the server have kept part of it (see remove). With refs
// <= 0 nothing is stored and the key is "".
func (c *CouchDB) Put(ctx context.Context, inv string, refs int, src io.Reader) (string, error) {
	if refs <= 0 {
		return "", nil
	}
	key := couchPrefix(inv) + rand.Text() + "." + strconv.Itoa(refs)
	att := &kivik.Attachment{
		Filename:    couchAttachment,
		ContentType: "application/octet-stream",
		// NopCloser: the driver closes the body, and src is the caller's.
		Content: io.NopCloser(src),
	}
	if _, err := c.db.PutAttachment(ctx, key, att); err != nil {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		c.remove(dctx, key) // best effort: nobody knows the key
		return "", c.fail("put "+key, err)
	}
	return key, nil
}

// remove deletes the document key after a failed upload, if the server
// stored it anyway (pouchdb-server takes an upload that broke off as an
// empty attachment). Such a write may also land after the deletion; its
// key was never returned, so nobody reads it, and DropInvocation deletes
// it.
func (c *CouchDB) remove(ctx context.Context, key string) error {
	for range couchRetries {
		rev, err := c.db.GetRev(ctx, key)
		if kivik.HTTPStatus(err) == http.StatusNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = c.db.Delete(ctx, key, rev)
		if err == nil || kivik.HTTPStatus(err) == http.StatusNotFound {
			return nil
		}
		if kivik.HTTPStatus(err) != http.StatusConflict {
			return err
		}
	}
	return fmt.Errorf("delete %s: still conflicting after %d attempts", key, couchRetries)
}

// Open returns the attachment's content, streamed from the server.
func (c *CouchDB) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	att, err := c.db.GetAttachment(ctx, key, couchAttachment)
	if kivik.HTTPStatus(err) == http.StatusNotFound {
		return nil, c.fail("open "+key, ErrNotFound)
	}
	if err != nil {
		return nil, c.fail("open "+key, err)
	}
	return att.Content, nil
}

// Release counts one reader done, deleting the document with the last. An
// update that conflicts with another one is retried on the new revision.
func (c *CouchDB) Release(ctx context.Context, key string) error {
	for range couchRetries {
		// The whole document, so that the update keeps the attachment's
		// stub and thus the attachment.
		var doc map[string]any
		err := c.db.Get(ctx, key).ScanDoc(&doc)
		if kivik.HTTPStatus(err) == http.StatusNotFound {
			return nil
		}
		if err != nil {
			return c.fail("release "+key, err)
		}
		rev, _ := doc["_rev"].(string)
		released, _ := doc["released"].(float64)
		if int(released)+1 >= couchRefs(key) {
			_, err = c.db.Delete(ctx, key, rev)
		} else {
			doc["released"] = released + 1
			_, err = c.db.Put(ctx, key, doc)
		}
		switch kivik.HTTPStatus(err) {
		case 0:
			return nil
		case http.StatusNotFound:
			return nil
		case http.StatusConflict:
			continue
		}
		return c.fail("release "+key, err)
	}
	return c.fail("release "+key, fmt.Errorf("still conflicting after %d attempts", couchRetries))
}

// DropInvocation deletes every document of inv: those listed by an
// _all_docs range query on the invocation's ID prefix, in bulk, until none
// is left.
func (c *CouchDB) DropInvocation(ctx context.Context, inv string) error {
	prefix := couchPrefix(inv)
	for range couchRetries {
		docs, err := c.listDocs(ctx, prefix)
		if err != nil {
			return c.fail("drop "+inv, err)
		}
		if len(docs) == 0 {
			return nil
		}
		// Conflicts (a concurrent Release) are left for the next round.
		if _, err := c.db.BulkDocs(ctx, docs); err != nil {
			return c.fail("drop "+inv, err)
		}
	}
	return c.fail("drop "+inv, fmt.Errorf("documents left after %d rounds", couchRetries))
}

// listDocs returns deletion stubs for the documents whose IDs are prefix
// followed by a random ID (so not those of an invocation whose ID extends
// inv with a "/").
func (c *CouchDB) listDocs(ctx context.Context, prefix string) ([]any, error) {
	rows := c.db.AllDocs(ctx, kivik.Params(map[string]any{
		"startkey": prefix,
		"endkey":   prefix + "\ufff0",
		"limit":    1000,
	}))
	defer rows.Close()
	var docs []any
	for rows.Next() {
		id, err := rows.ID()
		if err != nil {
			return nil, err
		}
		if strings.Contains(id[len(prefix):], "/") {
			continue
		}
		var value struct {
			Rev string `json:"rev"`
		}
		if err := rows.ScanValue(&value); err != nil {
			return nil, err
		}
		docs = append(docs, map[string]any{"_id": id, "_rev": value.Rev, "_deleted": true})
	}
	return docs, rows.Err()
}
