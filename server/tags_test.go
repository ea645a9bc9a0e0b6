package server

import (
	"fmt"
	"maps"
	"testing"

	"github.com/shardlog/shardlog/server/wire"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/shardlog/shardlog/shard"
)

// tagMap turns an SDK tag list into a map, failing on duplicate keys or an
// order other than by key.
func tagMap(t *testing.T, tags []types.Tag) map[string]string {
	t.Helper()
	m := map[string]string{}
	for i, tg := range tags {
		if i > 0 && *tags[i-1].Key >= *tg.Key {
			t.Fatalf("tags not sorted by key: %q before %q", *tags[i-1].Key, *tg.Key)
		}
		m[*tg.Key] = aws.ToString(tg.Value)
	}
	return m
}

func TestStreamTags(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		name := "tags-" + c.name
		st := e.createStream(name, 1)
		_, err := c.sdk.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String(name),
			Tags: map[string]string{"b": "2", "a": "1", "c": "", "d": "4"}})
		if err != nil {
			t.Fatal(err)
		}
		// Overwrite by ARN.
		_, err = c.sdk.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamARN: aws.String(st.ARN()),
			Tags: map[string]string{"a": "one"}})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"a": "one", "b": "2", "c": "", "d": "4"}
		if got := st.Tags(); !maps.Equal(got, want) {
			t.Fatalf("stored tags %v, want %v", got, want)
		}
		all, err := c.sdk.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagMap(t, all.Tags); !maps.Equal(got, want) || *all.HasMoreTags {
			t.Fatalf("ListTagsForStream: %v more=%v, want %v", got, *all.HasMoreTags, want)
		}

		// Paging: Limit and ExclusiveStartTagKey, also one that is not a key.
		page := func(start *string, limit int32, wantKeys string, wantMore bool) {
			t.Helper()
			out, err := c.sdk.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamARN: aws.String(st.ARN()),
				ExclusiveStartTagKey: start, Limit: aws.Int32(limit)})
			if err != nil {
				t.Fatal(err)
			}
			keys := ""
			for _, tg := range out.Tags {
				keys += *tg.Key
			}
			if keys != wantKeys || *out.HasMoreTags != wantMore {
				t.Errorf("page after %v limit %d: %q more=%v, want %q more=%v", aws.ToString(start), limit, keys, *out.HasMoreTags, wantKeys, wantMore)
			}
		}
		page(nil, 2, "ab", true)
		page(aws.String("b"), 2, "cd", false)
		page(aws.String("bb"), 1, "c", true)
		page(aws.String("d"), 5, "", false)

		_, err = c.sdk.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String(name),
			TagKeys: []string{"a", "nope"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Tags(); len(got) != 3 || got["a"] != "" {
			t.Fatalf("after remove: %v", got)
		}
	})
}

func TestResourceTags(t *testing.T) {
	e := newEnv(t)
	e.each(t, func(t *testing.T, c testClient) {
		st := e.createStream("res-"+c.name, 1)
		arn := aws.String(st.ARN())
		if _, err := c.sdk.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: arn, Tags: map[string]string{"team": "data", "env": "dev"}}); err != nil {
			t.Fatal(err)
		}
		out, err := c.sdk.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagMap(t, out.Tags); !maps.Equal(got, map[string]string{"team": "data", "env": "dev"}) {
			t.Fatalf("ListTagsForResource: %v", got)
		}
		if _, err := c.sdk.UntagResource(ctx, &kinesis.UntagResourceInput{ResourceARN: arn, TagKeys: []string{"env"}}); err != nil {
			t.Fatal(err)
		}
		// The stream-level view agrees with the resource-level one.
		lts, err := c.sdk.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamARN: arn})
		if err != nil {
			t.Fatal(err)
		}
		if got := tagMap(t, lts.Tags); !maps.Equal(got, map[string]string{"team": "data"}) {
			t.Fatalf("after untag: %v", got)
		}
	})
}

func TestTagErrors(t *testing.T) {
	e := newEnv(t)
	st := e.createStream("tagerr", 1)
	const account = "000000000000"
	e.each(t, func(t *testing.T, c testClient) {
		// Validation, in AWS's words, sent raw: the SDK refuses to send a
		// request that misses a required member.
		raw := func(op, body, want string) {
			t.Helper()
			r := c.call(t, e.addr, op, body)
			if r.status != 400 || r.body["__type"] != wire.Validation || r.body["message"] != want {
				t.Errorf("%s %s: got %d %v, want ValidationException %q", op, body, r.status, r.body, want)
			}
		}
		raw("AddTagsToStream", `{"StreamName":"tagerr"}`,
			"1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
		raw("AddTagsToStream", `{"StreamName":"tagerr","Tags":{"":"v"}}`,
			"1 validation error detected: Value '{=v}' at 'tags' failed to satisfy constraint: Map keys must satisfy constraint: "+
				"[Member must have length less than or equal to 128, Member must have length greater than or equal to 1]")
		raw("RemoveTagsFromStream", `{"StreamName":"tagerr","TagKeys":[]}`,
			"1 validation error detected: Value '[]' at 'tagKeys' failed to satisfy constraint: Member must have length greater than or equal to 1")
		raw("ListTagsForStream", `{"StreamName":"tag err","Limit":51}`,
			"2 validation errors detected: Value 'tag err' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; "+
				"Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50")
		raw("TagResource", `{"ResourceARN":"arn:aws:s3:::bucket","Tags":{}}`,
			`1 validation error detected: Value 'arn:aws:s3:::bucket' at 'resourceARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`)
		raw("UntagResource", `{"TagKeys":["k"]}`,
			"1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null")

		// Too many tags on the stream: InvalidArgumentException, nothing added.
		many := map[string]string{}
		for i := range shard.MaxTags + 1 {
			many[fmt.Sprintf("k%02d", i)] = "v"
		}
		_, err := c.sdk.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagerr"), Tags: many})
		wantAPIError(t, err, wire.InvalidArgument, "Failed to add tags to stream tagerr under account "+account+" because a given stream cannot have more than 50 tags")
		if n := len(st.Tags()); n != 0 {
			t.Fatalf("%d tags stored after a refused AddTagsToStream", n)
		}
		_, err = c.sdk.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(st.ARN()), Tags: map[string]string{"k": "a|b"}})
		wantAPIError(t, err, wire.InvalidArgument, "Some tags contain invalid characters.")
		_, err = c.sdk.AddTagsToStream(ctx, &kinesis.AddTagsToStreamInput{StreamName: aws.String("tagerr"), Tags: map[string]string{"AWS:x": "v"}})
		wantAPIError(t, err, wire.InvalidArgument, "Tag key AWS:x uses the reserved prefix aws:")
		_, err = c.sdk.RemoveTagsFromStream(ctx, &kinesis.RemoveTagsFromStreamInput{StreamName: aws.String("tagerr"), TagKeys: []string{"a#"}})
		wantAPIError(t, err, wire.InvalidArgument, "Some tags contain invalid characters.")
		_, err = c.sdk.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{})
		wantAPIError(t, err, wire.InvalidArgument, "Either StreamName or StreamARN must be provided.")

		// Missing resources.
		_, err = c.sdk.ListTagsForStream(ctx, &kinesis.ListTagsForStreamInput{StreamName: aws.String("nope")})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream nope under account "+account+" not found.")
		_, err = c.sdk.ListTagsForResource(ctx, &kinesis.ListTagsForResourceInput{ResourceARN: aws.String("arn:aws:kinesis:us-east-1:123456789012:stream/tagerr")})
		wantAPIError(t, err, wire.ResourceNotFound, "Stream tagerr under account 123456789012 not found.")
		consumer := st.ARN() + "/consumer/app:1700000000"
		_, err = c.sdk.TagResource(ctx, &kinesis.TagResourceInput{ResourceARN: aws.String(consumer), Tags: map[string]string{"k": "v"}})
		wantAPIError(t, err, wire.ResourceNotFound, "Consumer "+consumer+" under account "+account+" not found.")
	})
}
