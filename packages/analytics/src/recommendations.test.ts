import { coViewedReason, hitRates, mergeLists, POPULAR_REASON } from './recommendations';

describe('mergeLists', () => {
  it('co-occurrence picks first, then popular movies not already picked, up to the limit', () => {
    const out = mergeLists(
      [
        { user_id: 7, jav_id: 10, score: 2, reason_i: 1 },
        { user_id: 7, jav_id: 11, score: 1, reason_i: 2 },
      ],
      [
        { user_id: 7, jav_id: 11 },
        { user_id: 7, jav_id: 12 },
        { user_id: 7, jav_id: 13 },
        { user_id: 3, jav_id: 12 },
      ],
      3,
    );
    expect(out).toEqual([
      { user_id: 3, items: [{ jav_id: 12, score: 0, reason: POPULAR_REASON }] },
      {
        user_id: 7,
        items: [
          { jav_id: 10, score: 2, reason: 'co_viewed:1' },
          { jav_id: 11, score: 1, reason: 'co_viewed:2' },
          { jav_id: 12, score: 0, reason: POPULAR_REASON },
        ],
      },
    ]);
  });
  it('reasons fit recommendation.clicked (1 to 64 characters)', () => {
    expect(coViewedReason(Number.MAX_SAFE_INTEGER).length).toBeLessThanOrEqual(64);
  });
});

describe('hitRates', () => {
  it('counts held-out movies found in each list', () => {
    const q = hitRates(
      {
        users: [
          { user_id: 1, items: [{ jav_id: 5, score: 1, reason: 'x' }] },
          { user_id: 2, items: [{ jav_id: 6, score: 1, reason: 'x' }] },
        ],
        holdout: new Map([
          [1, { jav_id: 5, popular: [9] }],
          [2, { jav_id: 7, popular: [7] }],
          [3, { jav_id: 8, popular: [] }],
        ]),
      },
      20,
    );
    expect(q).toEqual({ users: 3, k: 20, hit_rate: 0.3333, popularity_hit_rate: 0.3333, lift: 1 });
  });
  it('no baseline hit: lift is null', () => {
    expect(hitRates({ users: [], holdout: new Map([[1, { jav_id: 5, popular: [] }]]) }).lift).toBeNull();
  });
});
