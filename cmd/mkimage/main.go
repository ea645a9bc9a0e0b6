// Command mkimage builds the shardlog container image from a static
// shardlog binary, without a Docker daemon or a base image, and writes it
// as a tarball that `docker load` (and `podman load`) read:
//
//	mkimage --binary dist/shardlog --version v1.2.3 --out dist/shardlog-image.tar
//
// The image is one layer on scratch: /shardlog, /etc/passwd and /etc/group
// with an unprivileged user shardlog (65532:65532), and /data, owned by
// that user and declared a volume. It runs `shardlog serve` as that user,
// listening on 0.0.0.0:4567 (exposed) with data in /data, set through
// SHARDLOG_LISTEN and SHARDLOG_DATA_DIR so that `docker run -e` and flags
// after the image name override them, and checks its health with
// `shardlog health` (the image has no shell and no curl).
//
// The manifest and config use Docker's schema 2 media types, which every
// OCI runtime and registry accepts: the health check is part of Docker's
// image configuration, which OCI's omits, and podman keeps it only in
// that format. Files and the config carry a fixed time, so the same binary
// always gives the same image digest.
package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "", "static shardlog binary for linux (CGO_ENABLED=0)")
	flag.StringVar(&o.version, "version", "dev", "version label and image tag")
	flag.StringVar(&o.revision, "revision", "", "VCS revision label")
	out := flag.String("out", "dist/shardlog-image.tar", "tarball to write")
	flag.Parse()
	if o.binary == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: mkimage --binary FILE [--version V] [--revision SHA] [--out FILE]")
		os.Exit(2)
	}
	img, err := build(o)
	if err == nil {
		err = write(*out, img, o.tags())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "mkimage: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%s); load it with: docker load -i %s\n", *out, o.tags()[0], *out)
}
