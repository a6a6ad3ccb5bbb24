import { cachedBotDetector } from './bot-detector';

describe('cachedBotDetector', () => {
  it('flags crawlers and not browsers, and stays bounded', () => {
    const isBot = cachedBotDetector(2);
    expect(isBot('Googlebot/2.1 (+http://www.google.com/bot.html)')).toBe(true);
    expect(isBot('Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0')).toBe(false);
    expect(isBot('curl/8.5.0')).toBe(true);
    expect(isBot('Googlebot/2.1 (+http://www.google.com/bot.html)')).toBe(true); // evicted and recomputed
  });
});
