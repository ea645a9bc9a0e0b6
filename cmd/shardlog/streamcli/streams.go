package streamcli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/spf13/cobra"
)

// How often create and delete look at the stream while they wait.
const (
	waitPollMin = 100 * time.Millisecond
	waitPollMax = 2 * time.Second
)

// newStreamsCommand is `shardlog streams` and its subcommands.
func newStreamsCommand() *cobra.Command {
	var conn connFlags
	cmd := &cobra.Command{
		Use:   "streams",
		Short: "Create, list, describe and delete streams",
		Long: `Create, list, describe and delete Kinesis streams, with human-readable
output. Works against shardlog or any Kinesis endpoint, including AWS.`,
		Example: `  shardlog streams create --shards 2 orders
  shardlog streams list
  shardlog streams describe orders
  shardlog streams delete orders`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	conn.register(cmd.PersistentFlags())
	cmd.AddCommand(
		newStreamsCreateCommand(&conn),
		newStreamsListCommand(&conn),
		newStreamsDescribeCommand(&conn),
		newStreamsDeleteCommand(&conn),
	)
	return cmd
}

func newStreamsCreateCommand(conn *connFlags) *cobra.Command {
	var (
		shards   int32
		onDemand bool
		noWait   bool
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a stream and wait until it is ACTIVE",
		Example: `  shardlog streams create --shards 4 orders
  shardlog streams create --on-demand clicks
  shardlog streams create --endpoint https://kinesis.eu-west-1.amazonaws.com --shards 1 audit`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			client, err := conn.client(ctx)
			if err != nil {
				return err
			}
			name := args[0]
			in := &kinesis.CreateStreamInput{StreamName: aws.String(name)}
			if onDemand {
				in.StreamModeDetails = &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand}
			} else {
				in.ShardCount = aws.Int32(shards)
			}
			if _, err := client.CreateStream(ctx, in); err != nil {
				return fmt.Errorf("create stream %s: %w", name, err)
			}
			if noWait {
				fmt.Fprintf(cmd.OutOrStdout(), "creating stream %s\n", name)
				return nil
			}
			sum, err := waitActive(ctx, client, name)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "stream %s is ACTIVE with %d open shards (%s)\n", name, aws.ToInt32(sum.OpenShardCount), aws.ToString(sum.StreamARN))
			return nil
		},
	}
	f := cmd.Flags()
	f.Int32Var(&shards, "shards", 1, "number of shards (provisioned mode)")
	f.BoolVar(&onDemand, "on-demand", false, "create the stream in on-demand capacity mode")
	f.BoolVar(&noWait, "no-wait", false, "return once the stream is being created, without waiting until it is ACTIVE")
	cmd.MarkFlagsMutuallyExclusive("shards", "on-demand")
	return cmd
}

// waitActive polls the stream until it is ACTIVE and returns its summary.
func waitActive(ctx context.Context, client *kinesis.Client, name string) (*types.StreamDescriptionSummary, error) {
	b := backoff{min: waitPollMin, max: waitPollMax}
	for {
		out, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			return nil, fmt.Errorf("describe stream %s: %w", name, err)
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return out.StreamDescriptionSummary, nil
		}
		if err := b.wait(ctx); err != nil {
			return nil, fmt.Errorf("stream %s is %s: %w", name, out.StreamDescriptionSummary.StreamStatus, err)
		}
	}
}

func newStreamsListCommand(conn *connFlags) *cobra.Command {
	return &cobra.Command{
		Use:          "list",
		Short:        "List streams with their status, mode and open shards",
		Example:      `  shardlog streams list`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			client, err := conn.client(ctx)
			if err != nil {
				return err
			}
			var summaries []types.StreamSummary
			p := kinesis.NewListStreamsPaginator(client, &kinesis.ListStreamsInput{})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					return fmt.Errorf("list streams: %w", err)
				}
				summaries = append(summaries, page.StreamSummaries...)
			}
			if len(summaries) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no streams")
				return nil
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "NAME\tSTATUS\tMODE\tSHARDS\tCREATED")
			for _, s := range summaries {
				// The open shard count is not in ListStreams; a stream
				// deleted in the meantime shows "-".
				shards := "-"
				out, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamARN: s.StreamARN})
				if err == nil {
					shards = fmt.Sprint(aws.ToInt32(out.StreamDescriptionSummary.OpenShardCount))
				} else if !notFound(err) {
					return fmt.Errorf("describe stream %s: %w", aws.ToString(s.StreamName), err)
				}
				mode := "-"
				if s.StreamModeDetails != nil {
					mode = string(s.StreamModeDetails.StreamMode)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", aws.ToString(s.StreamName), s.StreamStatus, mode, shards, formatTime(s.StreamCreationTimestamp))
			}
			return tw.Flush()
		},
	}
}

func newStreamsDescribeCommand(conn *connFlags) *cobra.Command {
	return &cobra.Command{
		Use:          "describe NAME",
		Short:        "Show a stream's settings and its shards",
		Example:      `  shardlog streams describe orders`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			client, err := conn.client(ctx)
			if err != nil {
				return err
			}
			name := args[0]
			out, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
			if err != nil {
				return fmt.Errorf("describe stream %s: %w", name, err)
			}
			shards, err := listShards(ctx, client, name)
			if err != nil {
				return err
			}
			return writeDescription(cmd.OutOrStdout(), out.StreamDescriptionSummary, shards)
		},
	}
}

// writeDescription prints a stream's summary as a key: value list, then a
// table of its shards.
func writeDescription(w io.Writer, s *types.StreamDescriptionSummary, shards []types.Shard) error {
	tw := newTable(w)
	mode := "-"
	if s.StreamModeDetails != nil {
		mode = string(s.StreamModeDetails.StreamMode)
	}
	encryption := string(s.EncryptionType)
	if s.KeyId != nil {
		encryption += " (" + *s.KeyId + ")"
	}
	rows := [][2]string{
		{"Name", aws.ToString(s.StreamName)},
		{"ARN", aws.ToString(s.StreamARN)},
		{"Status", string(s.StreamStatus)},
		{"Mode", mode},
		{"Open shards", fmt.Sprint(aws.ToInt32(s.OpenShardCount))},
		{"Retention", fmt.Sprintf("%d hours", aws.ToInt32(s.RetentionPeriodHours))},
		{"Encryption", encryption},
		{"Consumers", fmt.Sprint(aws.ToInt32(s.ConsumerCount))},
		{"Created", formatTime(s.StreamCreationTimestamp)},
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s:\t%s\n", r[0], r[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = newTable(w)
	fmt.Fprintln(tw, "SHARD\tSTATE\tPARENTS\tHASH KEYS")
	for _, sh := range shards {
		state := "open"
		if sh.SequenceNumberRange != nil && sh.SequenceNumberRange.EndingSequenceNumber != nil {
			state = "closed"
		}
		var parents []string
		for _, p := range []*string{sh.ParentShardId, sh.AdjacentParentShardId} {
			if p != nil {
				parents = append(parents, *p)
			}
		}
		if len(parents) == 0 {
			parents = []string{"-"}
		}
		keys := "-"
		if r := sh.HashKeyRange; r != nil {
			keys = aws.ToString(r.StartingHashKey) + "-" + aws.ToString(r.EndingHashKey)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", aws.ToString(sh.ShardId), state, strings.Join(parents, ","), keys)
	}
	return tw.Flush()
}

func newStreamsDeleteCommand(conn *connFlags) *cobra.Command {
	var (
		force  bool
		noWait bool
	)
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a stream and wait until it is gone",
		Example: `  shardlog streams delete orders
  shardlog streams delete --force orders   # also deregister its consumers`,
		Args:         cobra.ExactArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := interruptible(cmd.Context())
			defer stop()
			client, err := conn.client(ctx)
			if err != nil {
				return err
			}
			name := args[0]
			in := &kinesis.DeleteStreamInput{StreamName: aws.String(name)}
			if force {
				in.EnforceConsumerDeletion = aws.Bool(true)
			}
			if _, err := client.DeleteStream(ctx, in); err != nil {
				return fmt.Errorf("delete stream %s: %w", name, err)
			}
			if !noWait {
				if err := waitGone(ctx, client, name); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted stream %s\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "delete the stream even if it has registered consumers")
	cmd.Flags().BoolVar(&noWait, "no-wait", false, "return once the deletion has started")
	return cmd
}

// waitGone polls the stream until DescribeStreamSummary no longer finds it.
func waitGone(ctx context.Context, client *kinesis.Client, name string) error {
	b := backoff{min: waitPollMin, max: waitPollMax}
	for {
		_, err := client.DescribeStreamSummary(ctx, &kinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if notFound(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("describe stream %s: %w", name, err)
		}
		if err := b.wait(ctx); err != nil {
			return fmt.Errorf("stream %s is still being deleted: %w", name, err)
		}
	}
}

// notFound reports whether err is ResourceNotFoundException.
func notFound(err error) bool {
	var nf *types.ResourceNotFoundException
	return errors.As(err, &nf)
}

// listShards returns every shard of the stream, open and closed, in the
// service's order (parents before their children).
func listShards(ctx context.Context, client *kinesis.Client, stream string) ([]types.Shard, error) {
	var shards []types.Shard
	in := &kinesis.ListShardsInput{StreamName: aws.String(stream)}
	for {
		out, err := client.ListShards(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list shards of %s: %w", stream, err)
		}
		shards = append(shards, out.Shards...)
		if out.NextToken == nil {
			return shards, nil
		}
		// With a NextToken, the stream must not be named again.
		in = &kinesis.ListShardsInput{NextToken: out.NextToken}
	}
}

// newTable returns a tabwriter for aligned columns on w.
func newTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// formatTime formats a creation time for a table, in local time.
func formatTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.Local().Format(time.DateTime)
}
