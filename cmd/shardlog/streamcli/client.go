package streamcli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/smithy-go/logging"
	"github.com/spf13/pflag"

	"github.com/shardlog/shardlog/server/sdkhttp"
)

// DefaultEndpoint is the endpoint used when neither --endpoint nor the
// environment names one: a shardlog daemon on this machine.
const DefaultEndpoint = "http://127.0.0.1:4567"

// Environment variables naming the endpoint, most specific first; the AWS
// SDKs and CLI read the same ones.
const (
	envEndpointKinesis = "AWS_ENDPOINT_URL_KINESIS"
	envEndpoint        = "AWS_ENDPOINT_URL"
)

// loopbackCredentials are the dummy credentials and region used against a
// loopback endpoint when the AWS chain provides none: a local shardlog
// without auth checks only their shape.
const (
	loopbackKey    = "shardlog"
	loopbackRegion = "us-east-1"
)

// Retries of one API call inside the SDK; put and tail add their own
// retries of refused records and pages on top.
const (
	sdkMaxAttempts = 8
	sdkMaxBackoff  = 5 * time.Second
)

// connFlags are the flags every command has for reaching the service.
type connFlags struct {
	endpoint string
	region   string
}

// register adds --endpoint and --region to fs.
func (c *connFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.endpoint, "endpoint", "", "Kinesis endpoint URL (default $"+envEndpointKinesis+", then $"+envEndpoint+", then "+DefaultEndpoint+")")
	fs.StringVar(&c.region, "region", "", "AWS region (default: the AWS configuration's; us-east-1 for a loopback endpoint)")
}

// resolveEndpoint is the endpoint to use: flag, then the environment, then
// DefaultEndpoint.
func resolveEndpoint(flag string, getenv func(string) string) string {
	for _, e := range []string{flag, getenv(envEndpointKinesis), getenv(envEndpoint)} {
		if e != "" {
			return e
		}
	}
	return DefaultEndpoint
}

// isLoopback reports whether endpoint's host is localhost or a loopback
// address.
func isLoopback(endpoint string) bool {
	u, err := url.Parse(endpoint)
	if err != nil {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// client builds a Kinesis client from the flags and the standard AWS
// configuration chain (environment, shared config and credentials files,
// SSO, container and instance roles). Against a loopback endpoint the
// instance metadata service is not asked, and when the chain has no
// credentials or region, dummy ones are used.
func (c *connFlags) client(ctx context.Context) (*kinesis.Client, error) {
	endpoint := resolveEndpoint(c.endpoint, os.Getenv)
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want a URL such as %s", endpoint, DefaultEndpoint)
	}
	local := isLoopback(endpoint)
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = sdkMaxAttempts
				o.MaxBackoff = sdkMaxBackoff
				// A long put or tail meets throttling for minutes; the
				// default retry budget would end it.
				o.RateLimiter = ratelimit.None
			})
		}),
	}
	if c.region != "" {
		opts = append(opts, config.WithRegion(c.region))
	}
	if local {
		opts = append(opts, config.WithEC2IMDSClientEnableState(imds.ClientDisabled))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		if !local {
			return nil, errors.New("no AWS region: set --region or AWS_REGION")
		}
		cfg.Region = loopbackRegion
	}
	if !hasCredentials(ctx, cfg) {
		if !local {
			return nil, fmt.Errorf("no AWS credentials for %s: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE", endpoint)
		}
		cfg.Credentials = credentials.NewStaticCredentialsProvider(loopbackKey, loopbackKey, "")
	}
	cfg.HTTPClient = sdkhttp.DetachBodies(cfg.HTTPClient) // see sdkhttp: the SDK closes request bodies early
	// The SDK's own warnings (such as an unread body after Ctrl-C stops a
	// read) are noise here: errors reach the user through the commands.
	cfg.Logger = logging.Nop{}
	// Set on the client, not on cfg: the SDK would let the environment's
	// service-specific endpoint override cfg.BaseEndpoint, and --endpoint.
	return kinesis.NewFromConfig(cfg, func(o *kinesis.Options) { o.BaseEndpoint = aws.String(endpoint) }), nil
}

// hasCredentials reports whether cfg's credential chain yields credentials.
func hasCredentials(ctx context.Context, cfg aws.Config) bool {
	if cfg.Credentials == nil {
		return false
	}
	_, err := cfg.Credentials.Retrieve(ctx)
	return err == nil
}
