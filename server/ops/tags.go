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
