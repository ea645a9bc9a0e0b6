package console

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/shardlog/shardlog/shard"
)

// TestServeAssetsAndSegments serves the console of a real store in memory:
// its page, a 304 for a page the browser has, its segment listing, and
// nothing outside /console.
func TestServeAssetsAndSegments(t *testing.T) {
	store, err := shard.Open(shard.DefaultOptions(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.CreateStream(shard.StreamConfig{Name: "s", ShardCount: 2}); err != nil {
		t.Fatal(err)
	}
	c := New(store, zerolog.New(zerolog.NewTestWriter(t)))
	defer c.Close()
	get := func(uri string, header ...string) (*fasthttp.RequestCtx, bool) {
		t.Helper()
		ctx := new(fasthttp.RequestCtx)
		ctx.Request.Header.SetMethod(http.MethodGet)
		ctx.Request.SetRequestURI(uri)
		for i := 0; i+1 < len(header); i += 2 {
			ctx.Request.Header.Set(header[i], header[i+1])
		}
		return ctx, c.Serve(ctx)
	}

	ctx, ok := get("/console")
	if !ok || ctx.Response.StatusCode() != http.StatusOK || !strings.HasPrefix(string(ctx.Response.Header.ContentType()), "text/html") {
		t.Fatalf("/console: served %v, %d %s", ok, ctx.Response.StatusCode(), ctx.Response.Header.ContentType())
	}
	etag := string(ctx.Response.Header.Peek("ETag"))
	if ctx, _ := get("/console/index.html", "If-None-Match", etag); ctx.Response.StatusCode() != http.StatusNotModified {
		t.Errorf("page with its ETag: %d, want 304", ctx.Response.StatusCode())
	}
	ctx, _ = get("/console/api/segments?stream=s")
	var segs Segments
	if err := json.Unmarshal(ctx.Response.Body(), &segs); err != nil || len(segs.Shards) != 2 {
		t.Fatalf("segments: %d %s (%v)", ctx.Response.StatusCode(), ctx.Response.Body(), err)
	}
	if _, ok := get("/metrics"); ok {
		t.Error("the console served /metrics")
	}
}
