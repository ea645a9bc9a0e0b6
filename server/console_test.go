package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/chromedp/chromedp"
	"github.com/shardlog/shardlog/server/console"
	"github.com/shardlog/shardlog/shard"
)

// consoleEnv is a test server with the console on.
func consoleEnv(t *testing.T) *testEnv {
	t.Helper()
	return newEnv(t, func(o *Options) { o.Console = true })
}

func httpGet(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

func TestConsoleServesEmbeddedAssets(t *testing.T) {
	e := consoleEnv(t)
	base := "http://" + e.addr
	for _, c := range []struct{ path, contentType, contains string }{
		{"/console", "text/html", `<script src="/console/app.js"`},
		{"/console/", "text/html", `<link rel="stylesheet" href="/console/style.css">`},
		{"/console/app.js", "text/javascript", "X-Amz-Target"},
		{"/console/style.css", "text/css", "prefers-color-scheme: dark"},
	} {
		resp, body := httpGet(t, base+c.path)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.contentType) || !strings.Contains(string(body), c.contains) {
			t.Fatalf("GET %s: %d %q, body has %q: %v", c.path, resp.StatusCode, resp.Header.Get("Content-Type"), c.contains, strings.Contains(string(body), c.contains))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Fatalf("GET %s: Content-Security-Policy %q", c.path, csp)
		}
		// Self-contained: nothing is loaded from another origin.
		if strings.Contains(string(body), "https://") || strings.Contains(string(body), "http://") {
			t.Fatalf("GET %s refers to another origin", c.path)
		}
		etag := resp.Header.Get("ETag")
		if resp, _ := httpGet(t, base+c.path, "If-None-Match", etag); etag == "" || resp.StatusCode != http.StatusNotModified {
			t.Fatalf("GET %s with If-None-Match %q: %d", c.path, etag, resp.StatusCode)
		}
	}
	if resp, _ := httpGet(t, base+"/console/nope.js"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown console path: %d", resp.StatusCode)
	}
	resp, err := http.Post(base+"/console", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("POST /console: %d", resp.StatusCode)
	}
	// The API on the same port is untouched.
	if r := e.clients[0].call(t, e.addr, "ListStreams", "{}"); r.status != http.StatusOK {
		t.Fatalf("ListStreams next to the console: %d %v", r.status, r.body)
	}
}

func TestConsoleOffByDefault(t *testing.T) {
	e := newEnv(t)
	resp, body := httpGet(t, "http://"+e.addr+"/console")
	if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "<html") {
		t.Fatalf("console served with Options.Console off: %d %.80q", resp.StatusCode, body)
	}
}

// sseEvent is one server-sent event.
type sseEvent struct{ id, event, data string }

// readEvents reads server-sent events from r into a channel until r ends.
func readEvents(r io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return ch
}

func nextSSE(t *testing.T, ch <-chan sseEvent, want string) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatalf("event stream ended, want %q", want)
		}
		if ev.event != want {
			t.Fatalf("event %q (%s), want %q", ev.event, ev.data, want)
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatalf("no %q event within 5s", want)
	}
	return sseEvent{}
}

// openEvents starts an event stream; it ends with the test.
func openEvents(t *testing.T, url string, header ...string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	return readEvents(resp.Body)
}

func TestConsoleTailStreamsRecordsAndResumes(t *testing.T) {
	e := consoleEnv(t)
	st := e.createStream("tail", 1)
	sh := st.Shards()[0]
	sdk := e.clients[0].sdk
	ctx := context.Background()
	put := func(data string) string {
		t.Helper()
		out, err := sdk.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String("tail"), PartitionKey: aws.String("pk"), Data: []byte(data)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.SequenceNumber
	}
	first := put("before the tail")
	url := "http://" + e.addr + "/console/api/tail?stream=tail&shard=" + sh.ID()

	// from=latest starts after the record put before it.
	events := openEvents(t, url)
	open := nextSSE(t, events, "open")
	if open.id != "1" {
		t.Fatalf("open event id %q, want position 1", open.id)
	}
	seq := put(`{"n":1}`)
	ev := nextSSE(t, events, "records")
	var recs []console.Record
	if err := json.Unmarshal([]byte(ev.data), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || recs[0].SequenceNumber != seq || recs[0].PartitionKey != "pk" || recs[0].Data != "eyJuIjoxfQ==" || recs[0].Size != 7 || ev.id != "2" {
		t.Fatalf("records event id %s: %+v", ev.id, recs)
	}

	// trim_horizon replays from the oldest record.
	all := openEvents(t, url+"&from=trim_horizon")
	nextSSE(t, all, "open")
	ev = nextSSE(t, all, "records")
	if err := json.Unmarshal([]byte(ev.data), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].SequenceNumber != first {
		t.Fatalf("trim_horizon: %+v", recs)
	}

	// A reconnect with Last-Event-ID resumes where the last event ended.
	put("after")
	resumed := openEvents(t, url, "Last-Event-ID", "1")
	nextSSE(t, resumed, "open")
	ev = nextSSE(t, resumed, "records")
	if err := json.Unmarshal([]byte(ev.data), &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].SequenceNumber != seq {
		t.Fatalf("resume from 1: %+v", recs)
	}

	// A closed shard ends the tail once its records are read.
	if _, err := sdk.SplitShard(ctx, &kinesis.SplitShardInput{StreamName: aws.String("tail"), ShardToSplit: aws.String(sh.ID()), NewStartingHashKey: aws.String("1000")}); err != nil {
		t.Fatal(err)
	}
	nextSSE(t, events, "records") // "after"
	nextSSE(t, events, "end")

	for _, bad := range []string{"stream=nope&shard=" + sh.ID(), "stream=tail&shard=shardId-000000000099", "stream=tail&shard=" + sh.ID() + "&from=yesterday"} {
		if resp, _ := httpGet(t, "http://"+e.addr+"/console/api/tail?"+bad); resp.StatusCode < 400 {
			t.Fatalf("tail?%s: %d", bad, resp.StatusCode)
		}
	}
}

func TestConsoleStatsAndSegments(t *testing.T) {
	e := consoleEnv(t)
	e.createStream("a", 2)
	e.createStream("b", 1)
	events := openEvents(t, "http://"+e.addr+"/console/api/stats")
	var s console.Stats
	if err := json.Unmarshal([]byte(nextSSE(t, events, "stats").data), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Streams) != 2 || s.Streams[0].Name != "a" || s.Streams[0].Shards != 2 || s.Streams[0].Retention != 24 || s.Streams[0].Status != "ACTIVE" {
		t.Fatalf("stats: %+v", s)
	}
	for i := 0; i < 10; i++ {
		if _, err := e.clients[0].sdk.PutRecord(context.Background(), &kinesis.PutRecordInput{StreamName: aws.String("b"), PartitionKey: aws.String(fmt.Sprint(i)), Data: []byte("0123456789")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := json.Unmarshal([]byte(nextSSE(t, events, "stats").data), &s); err != nil {
		t.Fatal(err)
	}
	if b := s.Streams[1]; b.Records != 10 || b.RecordsPS <= 0 || b.BytesPS <= 0 || b.Bytes <= 0 {
		t.Fatalf("stats after 10 records: %+v", b)
	}

	resp, body := httpGet(t, "http://"+e.addr+"/console/api/segments?stream=b")
	var segs console.Segments
	if err := json.Unmarshal(body, &segs); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("segments: %d %s %v", resp.StatusCode, body, err)
	}
	if len(segs.Shards) != 1 || len(segs.Shards[0].Segments) != 1 || segs.Shards[0].Segments[0].Next != 10 || segs.Shards[0].Segments[0].Name != "00000000000000000000.log" {
		t.Fatalf("segments: %s", body)
	}
	if resp, _ := httpGet(t, "http://"+e.addr+"/console/api/segments?stream=zzz"); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("segments of a missing stream: %d", resp.StatusCode)
	}
}

// ---------- browser tests ----------

// newBrowser starts a headless chromium for one test and returns its
// context. Without a browser it skips, except under CI=true, where .ci/run
// installs Debian's chromium and a missing browser is a failure.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH under CI=true: .ci/run must apt-get install chromium")
		}
		t.Skip("console browser tests need Chromium (apt-get install chromium); none found on PATH")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // as root (CI) Chromium refuses to start sandboxed
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 860),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser; it must not carry a short timeout,
	// whose expiry would kill the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", path, err)
	}
	return ctx
}

// browse runs steps against the page with a timeout, failing the test with
// name on error.
func browse(t *testing.T, ctx context.Context, timeout time.Duration, name string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := chromedp.Do(c, steps...); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

func browserValue[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(c, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// setSelect picks an option of a select and fires its change event, as a
// user's choice does.
func setSelect(id, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.getElementById(%q); s.value = %q; s.dispatchEvent(new Event('change')); })()`, id, value))
}

// TestConsoleBrowser drives the console in Chromium: create a stream, tail
// its shard, put a record through the AWS SDK and see it in the tail within
// a second, render it as hex, and delete the stream.
func TestConsoleBrowser(t *testing.T) {
	e := consoleEnv(t)
	ctx := newBrowser(t)
	const name = "console-e2e"
	base := "http://" + e.addr + "/console"

	browse(t, ctx, 15*time.Second, "open the console",
		chromedp.Navigate(base),
		chromedp.WaitVisible(`#streams-empty`),
		chromedp.WaitVisible(`#conn[data-state="live"]`),
	)
	browse(t, ctx, 10*time.Second, "create a stream",
		chromedp.SendKeys(`#create-name`, name),
		chromedp.Click(`#create-submit`),
		chromedp.WaitVisible(`a[data-stream="`+name+`"]`),
	)
	st, err := e.store.Stream(name)
	if err != nil || len(st.Shards()) != 1 {
		t.Fatalf("stream after the console created it: %v", err)
	}
	browse(t, ctx, 10*time.Second, "open the stream, then the tail of its shard",
		chromedp.Click(`a[data-stream="`+name+`"]`),
		chromedp.WaitVisible(`a[data-tail="shardId-000000000000"]`),
		chromedp.WaitVisible(`#lineage a`),
		chromedp.Click(`a[data-tail="shardId-000000000000"]`),
		chromedp.WaitVisible(`#tail-state[data-state="live"]`),
	)

	out, err := e.clients[0].sdk.PutRecord(context.Background(), &kinesis.PutRecordInput{
		StreamName: aws.String(name), PartitionKey: aws.String("pk-browser"), Data: []byte(`{"hello":"console","n":1}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	browse(t, ctx, 5*time.Second, "see the record in the live tail",
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#tail article.rec').length === 1`, chromedp.WithPollingTimeout(time.Second)),
	)
	took := time.Since(start)
	t.Logf("record visible in the live tail %v after PutRecord returned", took)
	if took > time.Second {
		t.Fatalf("record took %v to appear in the tail, want under 1s", took)
	}
	header := browserValue(t, ctx, chromedp.Text(`#tail article.rec header`))
	data := browserValue(t, ctx, chromedp.Text(`#tail article.rec pre`))
	if !strings.Contains(header, *out.SequenceNumber) || !strings.Contains(header, "pk-browser") || !strings.Contains(data, `"hello": "console"`) {
		t.Fatalf("tail shows header %q data %q", header, data)
	}
	browse(t, ctx, 5*time.Second, "show the data as hex", setSelect("tail-format", "hex"))
	if data := browserValue(t, ctx, chromedp.Text(`#tail article.rec pre`)); !strings.Contains(data, "7b 22 68 65 6c 6c 6f") {
		t.Fatalf("hex view: %q", data)
	}

	browse(t, ctx, 10*time.Second, "delete the stream",
		chromedp.Navigate(base+"#/stream/"+name),
		chromedp.WaitVisible(`#delete`),
		chromedp.Click(`#delete`),
		chromedp.Click(`#delete-confirm`),
		chromedp.WaitVisible(`#streams-empty`),
	)
	_, err = e.clients[0].sdk.DescribeStreamSummary(context.Background(), &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("DescribeStreamSummary after the console deleted the stream: %v", err)
	}
}

// TestConsoleLoadsManyStreams times the first view with 1,000 streams: from
// navigation start until every stream is listed (ListStreams pages through
// the API) in the table.
func TestConsoleLoadsManyStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("creates 1,000 streams")
	}
	e := consoleEnv(t)
	ctx := newBrowser(t)
	const n = 1000
	// Creating is fsync-bound: a few goroutines overlap the waits.
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				if _, err := e.store.CreateStream(shard.StreamConfig{Name: fmt.Sprintf("stream-%04d", i), ShardCount: 1}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	browse(t, ctx, 15*time.Second, "list 1,000 streams",
		chromedp.Navigate("http://"+e.addr+"/console"),
		chromedp.WaitVisible(fmt.Sprintf(`body[data-streams="%d"]`, n)),
	)
	ms := browserValue(t, ctx, chromedp.Evaluate[float64](`window.__consoleReady`))
	rows := browserValue(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('#streams-table tbody tr').length`))
	t.Logf("first view with %d streams ready %.0f ms after navigation start", rows, ms)
	if rows != n {
		t.Fatalf("%d rows, want %d", rows, n)
	}
	// About 200 ms here with the race detector on; the issue asks for well
	// under a second.
	if ms > 1000 {
		t.Fatalf("first view took %.0f ms", ms)
	}
	// The filter narrows the table at once: it hides rows rather than
	// rebuilding the table for every key typed.
	t0 := time.Now()
	browse(t, ctx, 5*time.Second, "filter",
		chromedp.SendKeys(`#filter`, "stream-09"),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll('#streams-table tbody tr:not([hidden])').length === 100`),
	)
	t.Logf("typing a 9-key filter and narrowing to 100 rows took %v", time.Since(t0))
}

// TestConsoleScreenshots writes PNGs of the main views to
// console/screenshots/ when SHARDLOG_SCREENSHOTS=1 (they are committed and
// shown in the README).
func TestConsoleScreenshots(t *testing.T) {
	if os.Getenv("SHARDLOG_SCREENSHOTS") != "1" {
		t.Skip("set SHARDLOG_SCREENSHOTS=1 to rewrite console/screenshots/")
	}
	e := consoleEnv(t)
	ctx := newBrowser(t)
	sdk := e.clients[0].sdk
	bg := context.Background()
	for _, s := range []struct {
		name   string
		shards int
	}{{"orders", 2}, {"clicks", 4}, {"payments", 1}, {"audit-log", 1}, {"sensor-readings", 8}} {
		e.createStream(s.name, s.shards)
	}
	// Lineage: split a shard of orders, then merge the two children back.
	if _, err := sdk.SplitShard(bg, &kinesis.SplitShardInput{StreamName: aws.String("orders"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("85070591730234615865843651857942052864")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.RegisterStreamConsumer(bg, &kinesis.RegisterStreamConsumerInput{StreamARN: aws.String(e.store.StreamARN("orders")), ConsumerName: aws.String("billing")}); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // steady traffic, so the rates are not zero
		defer close(done)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(40 * time.Millisecond):
			}
			for _, s := range []string{"orders", "clicks", "sensor-readings"} {
				data := fmt.Sprintf(`{"order_id":%d,"customer":"c-%03d","total":%d.%02d,"items":[{"sku":"A-%d","qty":%d}]}`, 1000+i, i%97, 10+i%90, i%100, i%7, 1+i%3)
				sdk.PutRecord(bg, &kinesis.PutRecordInput{StreamName: aws.String(s), PartitionKey: aws.String(fmt.Sprint("customer-", i%13)), Data: []byte(data)})
			}
		}
	}()
	defer func() { close(stop); <-done }()

	dir := filepath.Join("console", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := func(file string, full bool) {
		t.Helper()
		a := chromedp.CaptureScreenshot()
		if full {
			a = chromedp.FullScreenshot(100) // quality 100: PNG
		}
		png := browserValue(t, ctx, a)
		if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base := "http://" + e.addr + "/console"
	browse(t, ctx, 15*time.Second, "streams", chromedp.Navigate(base+"?theme=light"), chromedp.WaitVisible(`body[data-streams="5"]`), chromedp.Sleep(2500*time.Millisecond))
	shot("streams-light.png", false)
	browse(t, ctx, 15*time.Second, "streams dark", chromedp.Navigate(base+"?theme=dark"), chromedp.WaitVisible(`body[data-streams="5"]`), chromedp.Sleep(2500*time.Millisecond))
	shot("streams-dark.png", false)
	browse(t, ctx, 15*time.Second, "stream", chromedp.Navigate(base+"?theme=light#/stream/orders"), chromedp.WaitVisible(`body[data-view="stream"]`), chromedp.Sleep(1500*time.Millisecond))
	shot("stream-light.png", true)
	browse(t, ctx, 15*time.Second, "tail", chromedp.Navigate(base+"?theme=dark#/stream/orders/shard/shardId-000000000002"), chromedp.WaitVisible(`#tail-state[data-state="live"]`), chromedp.WaitVisible(`#tail article.rec`), chromedp.Sleep(1500*time.Millisecond))
	shot("tail-dark.png", false)
}
