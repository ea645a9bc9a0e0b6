package sdkhttp

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// DetachBodies returns an HTTP client that sends each request through
// next with a copy of its body.
func DetachBodies(next aws.HTTPClient) aws.HTTPClient {
	return detached{next: next}
}

// New returns the SDK's default HTTP client behind DetachBodies.
func New() aws.HTTPClient {
	return DetachBodies(awshttp.NewBuildableClient())
}

type detached struct {
	next aws.HTTPClient
}

// Do sends req with a copy of its body.
func (d detached) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	return d.next.Do(req)
}
