'use strict';
/*
 * Shared by the tests: DynamoDB Local's endpoint, fresh table names, clients, and a tiny raw
 * DynamoDB JSON client (node:http, no SDK) to read the tables independently of the library.
 */
const http = require('node:http');
const { DadRatingsClient } = require('..');

/** DR_TEST_ENDPOINT, e.g. http://127.0.0.1:8000. Missing: the tests fail (they never skip). */
function endpoint() {
  const url = process.env.DR_TEST_ENDPOINT;
  if (!url) {
    throw new Error('DR_TEST_ENDPOINT is not set: start DynamoDB Local ' +
                    '(scripts/dynamodb-local.sh start) and export what it prints');
  }
  return url;
}

let serial = 0;
/** Table names no other test (or test process) uses. */
function tableNames(tag) {
  const base = `node-${tag}-${process.pid}-${Date.now().toString(36)}-${serial++}`;
  return { ratingsTable: `${base}-ratings`, statsTable: `${base}-stats` };
}

/** A client on DynamoDB Local with dummy credentials and its own tables. */
async function newClient(tag, options = {}) {
  const tables = tableNames(tag);
  const client = new DadRatingsClient({
    endpoint: endpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDNODETEST', secretAccessKey: 'node-test-dummy-secret' },
    ...tables,
    ...options,
  });
  await client.createTables();
  return { client, ...tables };
}

/* ---- raw DynamoDB JSON protocol ------------------------------------------------------- */

/** POST one DynamoDB_20120810 action. DynamoDB Local does not check the signature. */
function ddb(action, body) {
  return post(`DynamoDB_20120810.${action}`, body);
}

/** POST one DynamoDBStreams_20120810 action (same endpoint on DynamoDB Local). */
function streams(action, body) {
  return post(`DynamoDBStreams_20120810.${action}`, body);
}

/** POST `body` with X-Amz-Target `target`; resolves with the parsed JSON response. */
function post(target, body) {
  const url = new URL(endpoint());
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/',
      headers: {
        'Content-Type': 'application/x-amz-json-1.0',
        'X-Amz-Target': target,
        'Content-Length': payload.length,
        Authorization: 'AWS4-HMAC-SHA256 Credential=AKIDNODETEST/20240101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=00',
        'X-Amz-Date': '20240101T000000Z',
      },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`${target}: HTTP ${res.statusCode}: ${text}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Every item of a table, unmarshalled (all pages, strongly consistent). */
async function scanAll(table) {
  const items = [];
  let start;
  do {
    const page = await ddb('Scan', { TableName: table, ConsistentRead: true, ExclusiveStartKey: start });
    for (const item of page.Items) items.push(unmarshall(item));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** Every record of a table's stream so far, shard by shard, as GetRecords returns them. */
async function streamRecords(table) {
  const { Table } = await ddb('DescribeTable', { TableName: table });
  const arn = Table.LatestStreamArn;
  const { StreamDescription } = await streams('DescribeStream', { StreamArn: arn });
  const records = [];
  for (const shard of StreamDescription.Shards) {
    let { ShardIterator: iterator } = await streams('GetShardIterator', {
      StreamArn: arn, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON',
    });
    while (iterator) {
      const page = await streams('GetRecords', { ShardIterator: iterator });
      if (page.Records.length === 0) break; // caught up with an open shard
      records.push(...page.Records);
      iterator = page.NextShardIterator;
    }
  }
  return records;
}

/** A DynamoDB attribute value as the AWS SDK's DocumentClient gives it (N -> number). */
function fromAttribute(av) {
  if ('S' in av) return av.S;
  if ('N' in av) return Number(av.N);
  if ('NULL' in av) return null;
  if ('BOOL' in av) return av.BOOL;
  if ('M' in av) return unmarshall(av.M);
  if ('L' in av) return av.L.map(fromAttribute);
  if ('SS' in av) return new Set(av.SS);
  if ('NS' in av) return new Set(av.NS.map(Number));
  throw new Error(`unexpected attribute value ${JSON.stringify(av)}`);
}

function unmarshall(item) {
  return Object.fromEntries(Object.entries(item).map(([k, v]) => [k, fromAttribute(v)]));
}

module.exports = { endpoint, tableNames, newClient, ddb, scanAll, streamRecords, unmarshall };
