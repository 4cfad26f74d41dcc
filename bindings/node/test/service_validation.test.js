'use strict';
/*
 * A ValidationException from DynamoDB is a service error, not the caller's bad input.
 *
 * The library checks every input itself (DR_E_INVALID_ARGUMENT -> InvalidInputError). When
 * DynamoDB Local refuses a request anyway, the deployment is wrong (here: tables keyed
 * otherwise than the library's PK + SK), and the binding rejects with
 * ServiceValidationError, a ServiceError, so that callers who answer InvalidInputError with
 * "fix your input" do not blame the user.
 */
const test = require('node:test');
const assert = require('node:assert/strict');
const dr = require('..');
const { endpoint, tableNames, ddb } = require('../testing/support');

async function wrongSchemaTable(name) {
  await ddb('CreateTable', {
    TableName: name,
    AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
    KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    BillingMode: 'PAY_PER_REQUEST',
  });
}

test('a ValidationException rejects with ServiceValidationError, a ServiceError', async (t) => {
  const tables = tableNames('schema');
  await wrongSchemaTable(tables.ratingsTable);
  await wrongSchemaTable(tables.statsTable);
  const client = new dr.DadRatingsClient({
    endpoint: endpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDNODETEST', secretAccessKey: 'node-test-dummy-secret' },
    maxAttempts: 1,
    ...tables,
  });
  t.after(async () => {
    await client.close();
    await ddb('DeleteTable', { TableName: tables.ratingsTable });
    await ddb('DeleteTable', { TableName: tables.statsTable });
  });

  const err = await client.readStats({ jokeId: 'some-joke' }).then(
    () => assert.fail('readStats on a table with another key schema succeeded'),
    (e) => e);
  assert.ok(!(err instanceof dr.InvalidInputError), `${err.name}: ${err.message}`);
  assert.ok(err instanceof dr.ServiceError, `${err.name}: ${err.message}`);
  assert.ok(err instanceof dr.ServiceValidationError);
  assert.ok(err instanceof dr.DadRatingsError);
  assert.equal(err.name, 'ServiceValidationError');
  assert.equal(err.status, dr.Status.DR_E_VALIDATION);
  assert.equal(err.code, 'DR_E_VALIDATION');
  assert.match(err.message, /ValidationException/);

  // The caller's own bad input is still InvalidInputError, and not a service error.
  const bad = await client.writeRating({ jokeId: 'x', rating: 6 }).then(
    () => assert.fail('rating 6 was accepted'), (e) => e);
  assert.ok(bad instanceof dr.InvalidInputError, `${bad.name}: ${bad.message}`);
  assert.ok(!(bad instanceof dr.ServiceError));
  assert.equal(bad.code, 'DR_E_INVALID_ARGUMENT');
});
