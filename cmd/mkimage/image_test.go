package main

import (
	"archive/tar"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// buildShardlog builds the static shardlog binary as make image does.
func buildShardlog(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "shardlog")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "../shardlog")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestImage builds the image tarball from the real static binary, reads it
// back as `docker load` would, and checks how it runs: entrypoint, a
// non-root user, port 4567, the /data volume owned by that user, a health
// check; then runs the image's entrypoint and health check outside a
// container, with the image's environment.
func TestImage(t *testing.T) {
	bin := buildShardlog(t)
	o := options{binary: bin, version: "v0.0.0-test", revision: "abc123"}
	img, err := build(o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dist", "shardlog-image.tar")
	if err := write(path, img, o.tags()); err != nil {
		t.Fatal(err)
	}

	for _, tag := range o.tags() {
		ref, err := name.NewTag(tag)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tarball.ImageFromPath(path, &ref); err != nil {
			t.Fatalf("tag %s: %v", tag, err)
		}
	}
	ref, _ := name.NewTag("shardlog:latest")
	loaded, err := tarball.ImageFromPath(path, &ref)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := loaded.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if cf.OS != "linux" || cf.Architecture == "" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if !reflect.DeepEqual(c.Entrypoint, []string{"/shardlog", "serve"}) {
		t.Errorf("entrypoint %q", c.Entrypoint)
	}
	if c.User == "" || strings.HasPrefix(c.User, "0") || strings.HasPrefix(c.User, "root") {
		t.Errorf("user %q, want non-root", c.User)
	}
	if _, ok := c.ExposedPorts["4567/tcp"]; !ok || len(c.ExposedPorts) != 1 {
		t.Errorf("exposed ports %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/data"]; !ok {
		t.Errorf("volumes %v", c.Volumes)
	}
	if hc := c.Healthcheck; hc == nil || !reflect.DeepEqual(hc.Test, []string{"CMD", "/shardlog", "health"}) || hc.Interval <= 0 {
		t.Errorf("health check %+v", hc)
	}
	for _, want := range []string{"SHARDLOG_LISTEN=0.0.0.0:4567", "SHARDLOG_DATA_DIR=/data"} {
		if !contains(c.Env, want) {
			t.Errorf("env %q lacks %s", c.Env, want)
		}
	}
	if c.Labels["org.opencontainers.image.version"] != o.version || c.Labels["org.opencontainers.image.revision"] != "abc123" {
		t.Errorf("labels %v", c.Labels)
	}

	// The files: the binary, the user, the volume directory it owns.
	files := map[string]*tar.Header{}
	tr := tar.NewReader(mutate.Extract(loaded))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimSuffix(h.Name, "/")] = h
		if h.Name == "etc/passwd" {
			body, _ := io.ReadAll(tr)
			if !strings.Contains(string(body), "shardlog:x:65532:65532:") {
				t.Errorf("/etc/passwd:\n%s", body)
			}
		}
	}
	if h := files["shardlog"]; h == nil || h.Mode&0o111 == 0 {
		t.Errorf("/shardlog: %+v", h)
	}
	if h := files["data"]; h == nil || h.Typeflag != tar.TypeDir || h.Uid != 65532 || h.Gid != 65532 {
		t.Errorf("/data: %+v", h)
	}
	if c.User != "65532:65532" {
		t.Errorf("user %q is not the owner of /data", c.User)
	}

	// The same binary gives the same image.
	again, err := build(o)
	if err != nil {
		t.Fatal(err)
	}
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	if d1 != d2 {
		t.Errorf("digests differ: %s, %s", d1, d2)
	}

	// The entrypoint with the image's environment (the port and data
	// directory moved into the test's), then the health check command.
	port := freePort(t)
	env := []string{"SHARDLOG_LISTEN=127.0.0.1:" + port, "SHARDLOG_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}
	serve := exec.Command(bin, c.Entrypoint[1:]...)
	serve.Env = append(os.Environ(), env...)
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
	}()
	health := c.Healthcheck.Test[2:]
	deadline := time.Now().Add(30 * time.Second)
	for {
		probe := exec.Command(bin, health...)
		probe.Env = append(os.Environ(), env...)
		out, err := probe.CombinedOutput()
		if err == nil && strings.TrimSpace(string(out)) == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health check never passed: %v\n%s", err, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// And it fails once the daemon is gone.
	serve.Process.Signal(os.Interrupt)
	serve.Wait()
	probe := exec.Command(bin, health...)
	probe.Env = append(os.Environ(), env...)
	if err := probe.Run(); err == nil {
		t.Fatal("health check passed with no daemon")
	}
}

// TestRefusesDynamicBinary: a binary that needs a dynamic loader would not
// start on scratch.
func TestRefusesDynamicBinary(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to stand for a dynamic binary")
	}
	sh, _ = filepath.EvalSymlinks(sh)
	if _, err := build(options{binary: sh, version: "x"}); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Fatalf("build from %s: %v", sh, err)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	return port
}
