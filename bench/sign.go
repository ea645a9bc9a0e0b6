package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Credentials sign the run's requests with AWS Signature Version 4, as
// Kinesis requires. Without them (nil Options.Credentials) every request
// carries a well-formed SigV4 header with a signature of zeros: what
// shardlog under auth mode none and kinesalite require, which nothing there
// verifies, and which AWS refuses.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	// SessionToken is set for temporary credentials (sent as
	// X-Amz-Security-Token).
	SessionToken string
	// Region is the signing region; default us-east-1.
	Region string
}

// signer computes the authentication headers of one request. It is safe for
// concurrent use.
type signer struct {
	creds  aws.Credentials
	region string
	v4     *v4.Signer // nil: dummy headers
}

func newSigner(c *Credentials) *signer {
	if c == nil || c.AccessKeyID == "" {
		return &signer{}
	}
	region := c.Region
	if region == "" {
		region = "us-east-1"
	}
	return &signer{
		creds:  aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken},
		region: region,
		v4:     v4.NewSigner(),
	}
}

const amzDateLayout = "20060102T150405Z"

// sign sets X-Amz-Date, Authorization and, for temporary credentials,
// X-Amz-Security-Token on r, whose other headers (Host, Content-Type,
// X-Amz-Target) and body are final.
func (s *signer) sign(r *http.Request, body []byte) error {
	now := time.Now().UTC()
	if s.v4 == nil {
		r.Header.Set("X-Amz-Date", now.Format(amzDateLayout))
		r.Header.Set("Authorization", dummyAuth(now))
		return nil
	}
	sum := sha256.Sum256(body)
	return s.v4.SignHTTP(context.Background(), s.creds, r, hex.EncodeToString(sum[:]), "kinesis", s.region, now)
}

// dummyAuth is the Authorization header of an unsigned request at now. It
// covers the headers the client sends, so that a server checking the
// header's shape as AWS does finds nothing unsigned.
func dummyAuth(now time.Time) string {
	return "AWS4-HMAC-SHA256 Credential=AKIDBENCH/" + now.Format("20060102") + "/us-east-1/kinesis/aws4_request, " +
		"SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + strings.Repeat("0", 64)
}
