package ops

import (
	"errors"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/shardlog/shardlog/server/wire"
	"github.com/shardlog/shardlog/shard"
)

// Tag limits of the Kinesis service model, shared by AddTagsToStream,
// RemoveTagsFromStream, TagResource and UntagResource. How many tags a
// stream may carry in all is shard.MaxTags.
const (
	maxTagsPerCall = 200 // entries of a Tags map in one request
	maxTagKeys     = 50  // keys of a TagKeys list in one request
	maxTagKeyLen   = 128 // characters
	maxTagValueLen = 256 // characters
)

// tagCharsPattern is the characters AWS allows in tag keys and values:
// Unicode letters, digits, white space and _ . : / = + - @ (the newest
// AWS documentation, TagResource's Tags; the older Tag type lists % instead
// of :). "White space" is spaces: AWS refuses a tab or a newline
// (kinesalite's test/addTagsToStream.js, recorded against AWS).
var tagCharsPattern = regexp.MustCompile(`^[\p{L}\p{N}\p{Zs}_.:/=+\-@]*$`)

// tag is one element of a Tags list in a response.
type tag struct {
	Key   string
	Value string
}

// sortedTags returns tags as a list sorted by key, the order AWS lists them in.
func sortedTags(tags map[string]string) []tag {
	out := make([]tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, tag{Key: k, Value: tags[k]})
	}
	return out
}

// validateTags checks a Tags map member (AddTagsToStream, TagResource).
func validateTags(v *wire.Validator, tags map[string]string) {
	v.NotNull("tags", tags != nil)
	v.MapLen("tags", tags, tags != nil, 0, maxTagsPerCall)
	v.MapEntries("tags", tags, 1, maxTagKeyLen, 0, maxTagValueLen)
}

// validateTagKeys checks a TagKeys list member (RemoveTagsFromStream,
// UntagResource).
func validateTagKeys(v *wire.Validator, keys []string) {
	v.NotNull("tagKeys", keys != nil)
	v.ListLen("tagKeys", len(keys), keys != nil, 1, maxTagKeys, func() string { return wire.ShowList(keys) })
	v.Members("tagKeys", keys, 1, maxTagKeyLen)
}

// errTagChars is AWS's answer to a tag key or value with a character
// outside tagCharsPattern.
var errTagChars = wire.Errorf(wire.InvalidArgument, "Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - @ :.")

// checkTagKeys refuses keys with characters AWS does not allow and keys in
// the reserved "aws:" namespace.
func checkTagKeys[V any](keys map[string]V) error {
	for k := range keys {
		if !tagCharsPattern.MatchString(k) {
			return errTagChars
		}
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return wire.Errorf(wire.InvalidArgument, "Tag key %s uses the reserved prefix aws:, which only AWS may use.", k)
		}
	}
	return nil
}

// addTags adds or overwrites tags on st after AWS's argument checks:
// characters, the reserved "aws:" prefix, and at most shard.MaxTags tags on
// the stream afterwards (InvalidArgumentException otherwise).
func (s *Service) addTags(st tagged, tags map[string]string) error {
	if err := checkTagKeys(tags); err != nil {
		return err
	}
	for _, val := range tags {
		if !tagCharsPattern.MatchString(val) {
			return errTagChars
		}
	}
	err := st.AddTags(tags)
	if errors.Is(err, shard.ErrTooManyTags) {
		return wire.Errorf(wire.InvalidArgument, "Failed to add tags to stream %s under account %s because a given stream cannot have more than %d tags associated with it.",
			st.Name(), s.store.Options().AccountID, shard.MaxTags)
	}
	return err
}

// removeTags removes the tags with the given keys from st; keys the stream
// does not carry are ignored, keys with forbidden characters refused.
func (s *Service) removeTags(st tagged, keys []string) error {
	set := make(map[string]struct{}, len(keys))
	for _, k := range keys {
		set[k] = struct{}{}
	}
	if err := checkTagKeys(set); err != nil {
		return err
	}
	return st.RemoveTags(keys)
}

type addTagsToStreamInput struct {
	Tags       map[string]string
	StreamName *string
	StreamARN  *string
}

// addTagsToStream answers AddTagsToStream: it adds or overwrites tags on a
// stream named by StreamName or StreamARN.
func (s *Service) addTagsToStream(in *addTagsToStreamInput) (*emptyOutput, error) {
	var v wire.Validator
	validateTags(&v, in.Tags)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needChange)
	if err != nil {
		return nil, err
	}
	if err := s.addTags(st, in.Tags); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type removeTagsFromStreamInput struct {
	TagKeys    []string
	StreamName *string
	StreamARN  *string
}

// removeTagsFromStream answers RemoveTagsFromStream: it removes tags by key
// from a stream; keys the stream does not carry are ignored.
func (s *Service) removeTagsFromStream(in *removeTagsFromStreamInput) (*emptyOutput, error) {
	var v wire.Validator
	validateTagKeys(&v, in.TagKeys)
	v.StreamName("streamName", in.StreamName)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needChange)
	if err != nil {
		return nil, err
	}
	if err := s.removeTags(st, in.TagKeys); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

// maxListTagsLimit is the largest Limit of ListTagsForStream.
const maxListTagsLimit = 50

type listTagsForStreamInput struct {
	StreamName           *string
	ExclusiveStartTagKey *string
	Limit                *int
	StreamARN            *string
}

type listTagsForStreamOutput struct {
	Tags        []tag
	HasMoreTags bool
}

// listTagsForStream answers ListTagsForStream: a stream's tags sorted by key,
// starting after ExclusiveStartTagKey (which need not be a key the stream
// carries), at most Limit of them (all of them without a Limit), with
// HasMoreTags telling whether any follow.
func (s *Service) listTagsForStream(in *listTagsForStreamInput) (*listTagsForStreamOutput, error) {
	var v wire.Validator
	v.StreamName("streamName", in.StreamName)
	v.Str("exclusiveStartTagKey", in.ExclusiveStartTagKey, 1, maxTagKeyLen, nil)
	v.IntRange("limit", in.Limit, 1, maxListTagsLimit)
	v.StreamARN("streamARN", in.StreamARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.lookupStream(in.StreamName, in.StreamARN, needAny)
	if err != nil {
		return nil, err
	}
	tags := sortedTags(st.Tags())
	if in.ExclusiveStartTagKey != nil {
		i, found := slices.BinarySearchFunc(tags, *in.ExclusiveStartTagKey, func(t tag, k string) int { return strings.Compare(t.Key, k) })
		if found {
			i++
		}
		tags = tags[i:]
	}
	out := &listTagsForStreamOutput{Tags: tags}
	if in.Limit != nil && len(tags) > *in.Limit {
		out.Tags, out.HasMoreTags = tags[:*in.Limit], true
	}
	return out, nil
}

type tagResourceInput struct {
	Tags        map[string]string
	ResourceARN *string
}

// tagResource answers TagResource: AddTagsToStream for a resource named by
// ARN. Stream ARNs are the only taggable resources until consumers exist.
func (s *Service) tagResource(in *tagResourceInput) (*emptyOutput, error) {
	var v wire.Validator
	validateTags(&v, in.Tags)
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.resourceTagged(*in.ResourceARN, needChange)
	if err != nil {
		return nil, err
	}
	if err := s.addTags(st, in.Tags); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type untagResourceInput struct {
	TagKeys     []string
	ResourceARN *string
}

// untagResource answers UntagResource: RemoveTagsFromStream for a resource
// named by ARN.
func (s *Service) untagResource(in *untagResourceInput) (*emptyOutput, error) {
	var v wire.Validator
	validateTagKeys(&v, in.TagKeys)
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.resourceTagged(*in.ResourceARN, needChange)
	if err != nil {
		return nil, err
	}
	if err := s.removeTags(st, in.TagKeys); err != nil {
		return nil, err
	}
	return &emptyOutput{}, nil
}

type listTagsForResourceInput struct {
	ResourceARN *string
}

type listTagsForResourceOutput struct {
	Tags []tag
}

// listTagsForResource answers ListTagsForResource: every tag of a resource
// named by ARN, sorted by key, in one page.
func (s *Service) listTagsForResource(in *listTagsForResourceInput) (*listTagsForResourceOutput, error) {
	var v wire.Validator
	v.NotNull("resourceARN", in.ResourceARN != nil)
	v.ResourceARN("resourceARN", in.ResourceARN)
	if err := v.Err(); err != nil {
		return nil, err
	}
	st, err := s.resourceTagged(*in.ResourceARN, needAny)
	if err != nil {
		return nil, err
	}
	return &listTagsForResourceOutput{Tags: sortedTags(st.Tags())}, nil
}
