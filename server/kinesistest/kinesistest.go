package kinesistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/rs/zerolog"

	"github.com/shardlog/shardlog/server"
	"github.com/shardlog/shardlog/server/sdkhttp"
	"github.com/shardlog/shardlog/shard"
)

// Region is the region of every test server: its ARNs name it and Config
// signs for it.
const Region = "us-east-1"

// anonymousKey is the access key Config carries when auth is off: the server
// then verifies nothing, but AWS-shaped credentials are still required.
const anonymousKey = "kinesistest"

// allowAll is the identity policy of the keys given to WithAuth.
const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}]}`

// shutdownTimeout bounds Close's graceful part.
const shutdownTimeout = 5 * time.Second

// Server is a shardlog server listening on a loopback port, with its data
// in a temporary directory. Its fields are set by New or Start and must not
// be changed; its methods are safe for concurrent use.
type Server struct {
	// Endpoint is the server's base URL, "http://127.0.0.1:<port>".
	Endpoint string
	// Config is ready for kinesis.NewFromConfig: static credentials (the
	// first key of WithAuth, or a dummy key), region us-east-1 and
	// BaseEndpoint set to Endpoint. Its HTTP client is the server's own
	// and is closed with it.
	Config aws.Config
	// Server is the running API server, for changing its limits
	// (SetLimits) or auth (SetAuth) while a test runs.
	Server *server.Server

	store     *shard.Store
	dir       string // removed by Close when Start created it
	transport *http.Transport
	served    chan error
}

// New starts a server for the test t and stops it, removing its data, when
// t and its subtests end (t.Cleanup). It fails t when the server cannot
// start. Streams given with WithStreams or WithStream exist and are ACTIVE
// when it returns. The server's warnings and errors go to t's log.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	set := settings{dir: t.TempDir(), logger: zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.WarnLevel)}
	s, err := start(set, opts)
	if err != nil {
		t.Fatalf("kinesistest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("kinesistest: %v", err)
		}
	})
	return s
}

// Start starts a server outside a test (in an example, a TestMain or a
// benchmark harness); the caller stops it with Close. Its data directory is
// a new temporary directory that Close removes. It logs nothing.
func Start(opts ...Option) (*Server, error) {
	dir, err := os.MkdirTemp("", "kinesistest-")
	if err != nil {
		return nil, fmt.Errorf("kinesistest: data directory: %w", err)
	}
	s, err := start(settings{dir: dir, logger: zerolog.Nop(), removeDir: true}, opts)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("kinesistest: %w", err), os.RemoveAll(dir))
	}
	return s, nil
}

// start opens the store in set.dir, serves it on a loopback port and
// creates the streams the options ask for.
func start(set settings, opts []Option) (*Server, error) {
	for _, o := range opts {
		o(&set)
	}
	so := shard.DefaultOptions(set.dir)
	so.Logger = set.logger
	so.Region = Region
	so.CreateDelay, so.DeleteDelay, so.UpdateDelay = 0, 0, 0
	if set.fsync != "" {
		so.Fsync = set.fsync
	}
	store, err := shard.Open(so)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	srvOpts := server.DefaultOptions()
	srvOpts.Logger = set.logger
	srvOpts.Limits = set.limits
	creds := credentials.NewStaticCredentialsProvider(anonymousKey, anonymousKey, "")
	if len(set.keys) > 0 {
		auth, err := authFor(set.keys)
		if err != nil {
			return nil, errors.Join(err, store.Close())
		}
		srvOpts.Auth = auth
		creds = credentials.NewStaticCredentialsProvider(set.keys[0].AccessKeyID, set.keys[0].SecretAccessKey, "")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, errors.Join(fmt.Errorf("listen: %w", err), store.Close())
	}
	s := &Server{
		Endpoint:  "http://" + ln.Addr().String(),
		Server:    server.New(store, srvOpts),
		store:     store,
		transport: http.DefaultTransport.(*http.Transport).Clone(),
		served:    make(chan error, 1),
	}
	if set.removeDir {
		s.dir = set.dir
	}
	s.Config = aws.Config{
		Region:       Region,
		Credentials:  aws.NewCredentialsCache(creds),
		BaseEndpoint: aws.String(s.Endpoint),
		HTTPClient:   sdkhttp.DetachBodies(&http.Client{Transport: s.transport}),
	}
	go func() { s.served <- s.Server.Serve(ln) }()
	s.Server.SetReady(true)
	if err := s.createStreams(set.streams); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// authFor is the server's Auth for keys: SigV4, every key allowed
// everything.
func authFor(keys []Key) (server.Auth, error) {
	policy, err := server.ParsePolicy([]byte(allowAll))
	if err != nil {
		return server.Auth{}, fmt.Errorf("BUG: allow-all policy: %w", err)
	}
	auth := server.Auth{Mode: server.AuthSigV4}
	for _, k := range keys {
		if k.AccessKeyID == "" || k.SecretAccessKey == "" {
			return server.Auth{}, errors.New("WithAuth: a key needs an access key id and a secret")
		}
		auth.Keys = append(auth.Keys, server.AuthKey{
			AccessKeyID:     k.AccessKeyID,
			SecretAccessKey: server.Secret(k.SecretAccessKey),
			Policy:          policy,
		})
	}
	return auth, nil
}

// createStreams creates streams through the API, as a user would, and
// waits until each is ACTIVE.
func (s *Server) createStreams(streams []streamSpec) error {
	if len(streams) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := s.Client()
	for _, st := range streams {
		in := &kinesis.CreateStreamInput{StreamName: aws.String(st.name)}
		if st.shards > 0 {
			in.ShardCount = aws.Int32(int32(st.shards))
		} else {
			in.StreamModeDetails = &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}
		}
		if _, err := c.CreateStream(ctx, in); err != nil {
			return fmt.Errorf("create stream %s: %w", st.name, err)
		}
	}
	for _, st := range streams {
		for {
			out, err := c.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(st.name)})
			if err != nil {
				return fmt.Errorf("describe stream %s: %w", st.name, err)
			}
			if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("stream %s is not ACTIVE: %w", st.name, ctx.Err())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return nil
}

// Client returns a new Kinesis client for the server, built from Config
// with optFns applied.
func (s *Server) Client(optFns ...func(*kinesis.Options)) *kinesis.Client {
	return kinesis.NewFromConfig(s.Config, optFns...)
}

// Close stops the server: it stops accepting, lets requests in flight
// finish (up to 5 s), ends subscriptions, closes the store and, for a
// server from Start, removes its data directory. New's cleanup calls it;
// call it yourself only for a server from Start, and only once.
func (s *Server) Close() error {
	s.transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	var errs []error
	if err := s.Server.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown: %w", err))
	}
	if err := <-s.served; err != nil {
		errs = append(errs, fmt.Errorf("serve: %w", err))
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	if s.dir != "" {
		if err := os.RemoveAll(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("remove data directory: %w", err))
		}
	}
	return errors.Join(errs...)
}
