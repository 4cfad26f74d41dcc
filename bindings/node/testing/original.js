'use strict';
/*
 * The ORIGINAL JavaScript storage module's readStats() and getDashboardStats()
 * (lib/ratingsStorageDynamo.js of the original design, see docs/design.md), re-run on items read straight from the tables. Only the four
 * DynamoDB requests are replaced, by in-memory selections over a Scan; the code that shapes
 * the results is the original's, line for line. Two selections follow the library's documented fixes of the original's
 * defects (docs/data-model.md) instead of the original's Limit-8 query:
 *   - topPerformersResult.Items: the TRUE top 8 of the jokes with >= 3 ratings, best average
 *     (GSI1SK) first, ties by totalRatings descending, then jokeId descending;
 *   - topPerformersResult.Count (uniqueJokes): the number of jokes that have stats.
 */

const DEFAULT_COUNTS = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };

/** DynamoDB orders string keys by their UTF-8 bytes. */
const byBytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function jokeStatsItems(statsItems) {
  return statsItems.filter((i) => i.PK.startsWith('STATS#') && i.SK === 'AGGREGATE');
}

/** GetItem STATS#<jokeId>/AGGREGATE. */
function getStatsItem(statsItems, jokeId) {
  return statsItems.find((i) => i.PK === `STATS#${jokeId}` && i.SK === 'AGGREGATE');
}

// ---- original code below, with `client.send(...)` replaced by the selections ----------

function readStats(statsItems, { jokeId }) {
  const result = { Item: getStatsItem(statsItems, jokeId) };

  if (!result.Item) {
    return {
      counts: { ...DEFAULT_COUNTS },
      totalRatings: 0,
      average: 0,
      ratings: [],
      jokeId,
    };
  }

  const item = result.Item;
  return {
    counts: {
      1: item.count1 || 0,
      2: item.count2 || 0,
      3: item.count3 || 0,
      4: item.count4 || 0,
      5: item.count5 || 0,
    },
    totalRatings: item.totalRatings || 0,
    average: item.totalScore && item.totalRatings
      ? Number((item.totalScore / item.totalRatings).toFixed(2))
      : 0,
    jokeId,
    lastRatedAt: item.lastRatedAt || null,
  };
}

function getDashboardStats(statsItems, ratingItems) {
  const jokes = jokeStatsItems(statsItems);
  const globalResult = {
    Item: statsItems.find((i) => i.PK === 'GLOBAL' && i.SK === 'AGGREGATE'),
  };
  const authorsResult = {
    Items: statsItems
      .filter((i) => i.PK === 'GLOBAL' && i.SK.startsWith('AUTHOR#'))
      .sort((a, b) => byBytes(a.SK, b.SK)),
  };
  const topPerformersResult = {
    Items: jokes
      .filter((i) => i.GSI1PK === 'TOP_PERFORMERS' && (i.totalRatings || 0) >= 3)
      .sort((a, b) => (b.GSI1SK - a.GSI1SK) || (b.totalRatings - a.totalRatings) ||
                      byBytes(b.PK, a.PK))
      .slice(0, 8),
    Count: jokes.length,
  };
  const recentResult = {
    Items: ratingItems
      .filter((i) => i.GSI1PK === 'ALL_RATINGS')
      .sort((a, b) => byBytes(b.GSI1SK, a.GSI1SK))
      .slice(0, 20),
  };

  const global = globalResult.Item || {};
  const authors = (authorsResult.Items || []).map(item => ({
    author: item.author || item.SK.replace('AUTHOR#', ''),
    totalRatings: item.totalRatings || 0,
    average: item.totalScore && item.totalRatings
      ? Number((item.totalScore / item.totalRatings).toFixed(2))
      : 0,
    ratingCounts: {
      1: item.count1 || 0, 2: item.count2 || 0, 3: item.count3 || 0,
      4: item.count4 || 0, 5: item.count5 || 0,
    },
  })).sort((a, b) => b.totalRatings - a.totalRatings);

  const topPerformers = (topPerformersResult.Items || [])
    .filter(item => (item.totalRatings || 0) >= 3)
    .map(item => ({
      jokeId: item.PK.replace('STATS#', ''),
      joke: item.jokeText,
      author: item.author,
      totalRatings: item.totalRatings || 0,
      average: item.GSI1SK || 0,
      lastRatedAt: item.lastRatedAt,
    }));

  const recentRatings = (recentResult.Items || []).map(item => ({
    jokeId: item.PK.replace('JOKE#', ''),
    rating: item.rating,
    joke: item.jokeText,
    author: item.author,
    mode: item.mode,
    date: item.date,
    submittedAt: item.submittedAt,
  }));

  return {
    totals: {
      overallRatings: global.totalRatings || 0,
      overallAverage: global.totalScore && global.totalRatings
        ? Number((global.totalScore / global.totalRatings).toFixed(2))
        : 0,
      uniqueJokes: topPerformersResult.Count || 0,
      ratingCounts: {
        1: global.count1 || 0, 2: global.count2 || 0, 3: global.count3 || 0,
        4: global.count4 || 0, 5: global.count5 || 0,
      },
      byAuthor: authors.map(({ ratingCounts, ...rest }) => rest),
    },
    ratingDistribution: {
      overall: {
        1: global.count1 || 0, 2: global.count2 || 0, 3: global.count3 || 0,
        4: global.count4 || 0, 5: global.count5 || 0,
      },
      byAuthor: authors.reduce((acc, a) => ({ ...acc, [a.author]: a.ratingCounts }), {}),
    },
    topPerformers,
    recentRatings,
  };
}

module.exports = { readStats, getDashboardStats, jokeStatsItems };
