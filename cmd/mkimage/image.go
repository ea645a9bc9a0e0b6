package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// What the image holds and how it runs.
const (
	binaryPath = "/shardlog"
	dataDir    = "/data"
	uid, gid   = 65532, 65532 // the conventional unprivileged "nonroot" ids
	apiPort    = "4567/tcp"
	repository = "shardlog"
)

// epoch is the time of every file and of the config: fixed, so that the
// image's digest depends only on its contents.
var epoch = time.Unix(0, 0).UTC()

// options says what to build.
type options struct {
	binary   string // path of the static shardlog binary
	version  string // version label and tag
	revision string // VCS revision label; may be empty
}

// tags names the image in the tarball: shardlog:<version> and shardlog:latest.
func (o options) tags() []string {
	return []string{repository + ":" + o.version, repository + ":latest"}
}

// build returns the image of o.binary. It refuses a binary that is not a
// statically linked Linux executable, which would not start on scratch.
func build(o options) (v1.Image, error) {
	bin, err := os.ReadFile(o.binary)
	if err != nil {
		return nil, err
	}
	arch, err := staticArch(o.binary)
	if err != nil {
		return nil, err
	}
	layerTar, err := rootFS(bin)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer: layer,
		History: v1.History{
			Created:   v1.Time{Time: epoch},
			CreatedBy: "mkimage: /shardlog, /etc/passwd, /etc/group, /data",
		},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: epoch}
	cf.Config = runConfig(o)
	return mutate.ConfigFile(img, cf)
}

// runConfig is how a container of the image runs.
func runConfig(o options) v1.Config {
	labels := map[string]string{
		"org.opencontainers.image.title":       "shardlog",
		"org.opencontainers.image.description": "A single-node, wire-compatible Amazon Kinesis Data Streams daemon",
		"org.opencontainers.image.version":     o.version,
		"org.opencontainers.image.licenses":    "MIT",
	}
	if o.revision != "" {
		labels["org.opencontainers.image.revision"] = o.revision
	}
	return v1.Config{
		Entrypoint: []string{binaryPath, "serve"},
		User:       fmt.Sprintf("%d:%d", uid, gid),
		Env: []string{
			"SHARDLOG_LISTEN=0.0.0.0:4567",
			"SHARDLOG_DATA_DIR=" + dataDir,
		},
		WorkingDir:   dataDir,
		ExposedPorts: map[string]struct{}{apiPort: {}},
		Volumes:      map[string]struct{}{dataDir: {}},
		Healthcheck: &v1.HealthConfig{
			Test:        []string{"CMD", binaryPath, "health"},
			Interval:    10 * time.Second,
			Timeout:     5 * time.Second,
			StartPeriod: time.Minute, // recovery of many shards takes seconds
			Retries:     3,
		},
		StopSignal: "SIGTERM",
		Labels:     labels,
	}
}

// rootFS returns the layer as a tar archive.
func rootFS(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(path string, mode int64, owner int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: path + "/", Mode: mode,
			Uid: owner, Gid: owner, ModTime: epoch, Format: tar.FormatPAX})
	}
	file := func(path string, mode int64, body []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: path, Mode: mode,
			Size: int64(len(body)), ModTime: epoch, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(body)
		return err
	}
	steps := []func() error{
		func() error { return dir("etc", 0o755, 0) },
		func() error {
			return file("etc/passwd", 0o644, []byte(fmt.Sprintf(
				"root:x:0:0:root:/root:/sbin/nologin\nshardlog:x:%d:%d:shardlog:%s:/sbin/nologin\n", uid, gid, dataDir)))
		},
		func() error {
			return file("etc/group", 0o644, []byte(fmt.Sprintf("root:x:0:\nshardlog:x:%d:\n", gid)))
		},
		func() error { return dir("tmp", 0o1777, 0) },
		func() error { return dir(filepath.Base(dataDir), 0o750, uid) },
		func() error { return file(filepath.Base(binaryPath), 0o755, bin) },
		tw.Close,
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("layer tar: %w", err)
		}
	}
	return buf.Bytes(), nil
}

// archs maps ELF machines to the architecture names of image configs.
var archs = map[elf.Machine]string{
	elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_386: "386", elf.EM_ARM: "arm",
	elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x", elf.EM_RISCV: "riscv64",
}

// staticArch returns the architecture of the Linux ELF executable at path,
// and refuses one with a program interpreter (a dynamic loader, which
// scratch does not have).
func staticArch(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s: not an ELF executable: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return "", fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0", path)
		}
	}
	arch, ok := archs[f.Machine]
	if !ok {
		return "", fmt.Errorf("%s: unsupported machine %s", path, f.Machine)
	}
	return arch, nil
}

// write writes img to path as a `docker load` tarball under tags.
func write(path string, img v1.Image, tags []string) error {
	refs := map[name.Reference]v1.Image{}
	for _, t := range tags {
		tag, err := name.NewTag(t)
		if err != nil {
			return fmt.Errorf("tag %q: %w", t, err)
		}
		refs[tag] = img
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(tmp, path)
}
