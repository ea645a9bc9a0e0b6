package streamcli

import (
	"context"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/spf13/cobra"
)

// Commands returns the top-level commands of this package (tail, put and
// streams), to be added to the shardlog root command. Each call returns new
// commands with their own flags.
func Commands() []*cobra.Command {
	return []*cobra.Command{newTailCommand(), newPutCommand(), newStreamsCommand()}
}

// interruptible returns a context that is cancelled on SIGINT or SIGTERM,
// and its stop function.
func interruptible(ctx context.Context) (context.Context, context.CancelFunc) {
	return signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
}

// retryable reports whether err is worth another attempt: throttling,
// a 5xx or a connection failure, as the SDK's retryer judges them.
func retryable(err error) bool {
	return retry.IsErrorRetryables(retry.DefaultRetryables).IsErrorRetryable(err) == aws.TrueTernary
}

// backoff is an exponential delay with jitter between min and max.
type backoff struct {
	min, max time.Duration
	next     time.Duration
}

// wait sleeps for the next delay, or until ctx ends (then it returns ctx's
// error), and doubles the delay for next time.
func (b *backoff) wait(ctx context.Context) error {
	if b.next < b.min {
		b.next = b.min
	}
	d := b.next/2 + time.Duration(rand.Int64N(int64(b.next/2)+1))
	b.next = min(2*b.next, b.max)
	return sleep(ctx, d)
}

// reset makes the next delay the shortest.
func (b *backoff) reset() { b.next = 0 }

// sleep waits for d or until ctx ends, returning ctx's error then.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// cancelled reports whether err came after ctx ended, so that it says
// nothing but that the command was stopped.
func cancelled(ctx context.Context, err error) bool {
	return err != nil && ctx.Err() != nil
}
