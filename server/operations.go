package server

import "strings"

// operationTable lists every Kinesis operation the API serves, in
// alphabetical order: its name as in X-Amz-Target after the service prefix,
// the IAM action policies judge it by, the body class that bounds its
// request body (body.go), and its handler. SubscribeToShard is the one
// operation outside it: its response is a stream (subscribetoshard.go,
// subscribeOp). The table is built once and never written.
var operationTable = []operationSpec{
	{"AddTagsToStream", "kinesis:AddTagsToStream", controlBody, handler((*Server).addTagsToStream)},
	{"CreateChannel", "kinesis:CreateChannel", controlBody, handler((*Server).createChannel)},
	{"CreateStream", "kinesis:CreateStream", controlBody, handler((*Server).createStream)},
	{"DecreaseStreamRetentionPeriod", "kinesis:DecreaseStreamRetentionPeriod", controlBody, handler((*Server).decreaseStreamRetentionPeriod)},
	{"DeleteChannel", "kinesis:DeleteChannel", controlBody, handler((*Server).deleteChannel)},
	{"DeleteResourcePolicy", "kinesis:DeleteResourcePolicy", controlBody, handler((*Server).deleteResourcePolicy)},
	{"DeleteStream", "kinesis:DeleteStream", controlBody, handler((*Server).deleteStream)},
	{"DeregisterStreamConsumer", "kinesis:DeregisterStreamConsumer", controlBody, handler((*Server).deregisterStreamConsumer)},
	{"DescribeAccountSettings", "kinesis:DescribeAccountSettings", controlBody, handler((*Server).describeAccountSettings)},
	{"DescribeChannel", "kinesis:DescribeChannel", controlBody, handler((*Server).describeChannel)},
	{"DescribeLimits", "kinesis:DescribeLimits", controlBody, handler((*Server).describeLimits)},
	{"DescribeStream", "kinesis:DescribeStream", controlBody, handler((*Server).describeStream)},
	{"DescribeStreamConsumer", "kinesis:DescribeStreamConsumer", controlBody, handler((*Server).describeStreamConsumer)},
	{"DescribeStreamSummary", "kinesis:DescribeStreamSummary", controlBody, handler((*Server).describeStreamSummary)},
	{"DisableEnhancedMonitoring", "kinesis:DisableEnhancedMonitoring", controlBody, handler((*Server).disableEnhancedMonitoring)},
	{"EnableEnhancedMonitoring", "kinesis:EnableEnhancedMonitoring", controlBody, handler((*Server).enableEnhancedMonitoring)},
	{"GetRecords", "kinesis:GetRecords", controlBody, handler((*Server).getRecords)},
	{"GetResourcePolicy", "kinesis:GetResourcePolicy", controlBody, handler((*Server).getResourcePolicy)},
	{"GetShardIterator", "kinesis:GetShardIterator", controlBody, handler((*Server).getShardIterator)},
	{"IncreaseStreamRetentionPeriod", "kinesis:IncreaseStreamRetentionPeriod", controlBody, handler((*Server).increaseStreamRetentionPeriod)},
	{"ListChannels", "kinesis:ListChannels", controlBody, handler((*Server).listChannels)},
	{"ListShards", "kinesis:ListShards", controlBody, handler((*Server).listShards)},
	{"ListStreamConsumers", "kinesis:ListStreamConsumers", controlBody, handler((*Server).listStreamConsumers)},
	{"ListStreams", "kinesis:ListStreams", controlBody, handler((*Server).listStreams)},
	{"ListTagsForResource", "kinesis:ListTagsForResource", controlBody, handler((*Server).listTagsForResource)},
	{"ListTagsForStream", "kinesis:ListTagsForStream", controlBody, handler((*Server).listTagsForStream)},
	{"MergeShards", "kinesis:MergeShards", controlBody, handler((*Server).mergeShards)},
	{"PutRecord", "kinesis:PutRecord", recordsBody, handler((*Server).putRecord)},
	{"PutRecords", "kinesis:PutRecords", recordsBody, handler((*Server).putRecords)},
	{"PutResourcePolicy", "kinesis:PutResourcePolicy", controlBody, handler((*Server).putResourcePolicy)},
	{"RegisterStreamConsumer", "kinesis:RegisterStreamConsumer", controlBody, handler((*Server).registerStreamConsumer)},
	{"RemoveTagsFromStream", "kinesis:RemoveTagsFromStream", controlBody, handler((*Server).removeTagsFromStream)},
	{"SplitShard", "kinesis:SplitShard", controlBody, handler((*Server).splitShard)},
	{"StartStreamEncryption", "kinesis:StartStreamEncryption", controlBody, handler((*Server).startStreamEncryption)},
	{"StopStreamEncryption", "kinesis:StopStreamEncryption", controlBody, handler((*Server).stopStreamEncryption)},
	{"TagResource", "kinesis:TagResource", controlBody, handler((*Server).tagResource)},
	{"UntagResource", "kinesis:UntagResource", controlBody, handler((*Server).untagResource)},
	{"UpdateAccountSettings", "kinesis:UpdateAccountSettings", controlBody, handler((*Server).updateAccountSettings)},
	{"UpdateChannel", "kinesis:UpdateChannel", controlBody, handler((*Server).updateChannel)},
	{"UpdateMaxRecordSize", "kinesis:UpdateMaxRecordSize", controlBody, handler((*Server).updateMaxRecordSize)},
	{"UpdateShardCount", "kinesis:UpdateShardCount", controlBody, handler((*Server).updateShardCount)},
	{"UpdateStreamMode", "kinesis:UpdateStreamMode", controlBody, handler((*Server).updateStreamMode)},
	{"UpdateStreamRecordDistributionStrategy", "kinesis:UpdateStreamRecordDistributionStrategy", controlBody, handler((*Server).updateStreamRecordDistributionStrategy)},
	{"UpdateStreamWarmThroughput", "kinesis:UpdateStreamWarmThroughput", controlBody, handler((*Server).updateStreamWarmThroughput)},
}

// operations maps an X-Amz-Target ("Kinesis_20131202.PutRecords") to its
// entry in operationTable. It is built once from the table and never
// written.
var operations = indexOperations(operationTable)

// indexOperations maps the target of each entry of table to it.
func indexOperations(table []operationSpec) map[string]*operation {
	m := make(map[string]*operation, len(table))
	for i := range table {
		op := operation{operationSpec: table[i], lowerAction: strings.ToLower(table[i].action)}
		target := targetPrefix + op.name
		if _, dup := m[target]; dup {
			panic("BUG: operation listed twice: " + op.name)
		}
		m[target] = &op
	}
	return m
}
