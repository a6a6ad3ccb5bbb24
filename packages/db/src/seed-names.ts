// Word pools for the demo catalog. Fictional studios and label prefixes; common Japanese family and
// given names combined at random (so no generated name is meant to be a real person).

export interface Provider {
  name: string;
  /** Label prefixes of the provider's codes; each prefix belongs to one provider, so codes never collide. */
  labels: readonly string[];
}

export const PROVIDERS: readonly Provider[] = [
  { name: 'Crimson Lotus', labels: ['CRL', 'CLX'] },
  { name: 'Blue Harbor Films', labels: ['BHF', 'BHD', 'BHX'] },
  { name: 'Sakura Works', labels: ['SKW', 'SKR'] },
  { name: 'Neon Alley', labels: ['NEA', 'NAL'] },
  { name: 'Kyoto Pictures', labels: ['KYP', 'KPD', 'KPX'] },
  { name: 'Golden Koi', labels: ['GKO', 'GKS'] },
  { name: 'Silver Tide', labels: ['SVT'] },
  { name: 'Velvet Moon Studio', labels: ['VMS', 'VMN'] },
  { name: 'Tokyo Nightline', labels: ['TNL', 'TNX', 'TNB'] },
  { name: 'Red Lantern', labels: ['RLT', 'RLN'] },
  { name: 'Paper Crane', labels: ['PPC'] },
  { name: 'Hanabi Media', labels: ['HNB', 'HNM'] },
  { name: 'Midori Entertainment', labels: ['MDE', 'MDR'] },
  { name: 'Shiosai Visual', labels: ['SSV'] },
];

export const FAMILY_NAMES = [
  'Sato', 'Suzuki', 'Takahashi', 'Tanaka', 'Watanabe', 'Ito', 'Yamamoto', 'Nakamura', 'Kobayashi', 'Kato',
  'Yoshida', 'Yamada', 'Sasaki', 'Yamaguchi', 'Matsumoto', 'Inoue', 'Kimura', 'Hayashi', 'Shimizu', 'Yamazaki',
  'Mori', 'Abe', 'Ikeda', 'Hashimoto', 'Ishikawa', 'Ogawa', 'Maeda', 'Okada', 'Hasegawa', 'Fujita',
  'Goto', 'Kondo', 'Murakami', 'Endo', 'Aoki', 'Sakamoto', 'Fujii', 'Nishimura', 'Fukuda', 'Ota',
  'Miura', 'Okamoto', 'Matsuda', 'Nakagawa', 'Harada', 'Ono', 'Tamura', 'Takeuchi', 'Kaneko', 'Wada',
] as const;

export const GIVEN_NAMES = [
  'Aoi', 'Hina', 'Yui', 'Rin', 'Mei', 'Sakura', 'Yuna', 'Miyu', 'Akari', 'Riko',
  'Nanami', 'Haruka', 'Misaki', 'Ayaka', 'Kana', 'Mio', 'Saki', 'Natsuki', 'Hikari', 'Emi',
  'Airi', 'Kokona', 'Momoka', 'Honoka', 'Yuzuki', 'Shiori', 'Mayu', 'Chihiro', 'Arisa', 'Reina',
  'Kaede', 'Asuka', 'Nozomi', 'Tsubasa', 'Minami', 'Yuka', 'Erika', 'Maho', 'Kanon', 'Rena',
] as const;

export const TAG_NAMES = [
  'Drama', 'Romance', 'Comedy', 'Documentary', 'Travel', 'Cosplay', 'Office', 'Outdoor', 'Vintage', 'Retro',
  'Music Video', 'Interview', 'Behind the Scenes', 'Compilation', 'Debut', 'Best Of', 'Anniversary', 'Festival',
  'Summer', 'Winter', 'Beach', 'Hot Spring', 'City Night', 'Countryside', 'Kyoto', 'Okinawa', 'Hokkaido',
  'Idol', 'Dance', 'Fitness', 'Cooking', 'Fashion', 'Gravure', 'Photo Book', 'Anime Style', 'Uniform',
  'School Life', 'Sports', 'Mystery', 'Thriller', 'Slice of Life', 'Fantasy', 'Historical', 'Road Trip',
  'Variety Show', 'Reality', 'POV', 'VR', '4K', 'HD Remaster', 'Exclusive', 'Limited Edition', 'Director Cut',
  'Short Film', 'Feature', 'Series', 'Ensemble Cast', 'Solo', 'Duo', 'Rookie',
] as const;

export const TITLE_ADJECTIVES = [
  'Midnight', 'Secret', 'Summer', 'Forgotten', 'Endless', 'Quiet', 'Golden', 'Crimson', 'Silent', 'Lonely',
  'First', 'Last', 'Hidden', 'Electric', 'Gentle', 'Restless', 'Neon', 'Sweet', 'Distant', 'Stolen',
] as const;

export const TITLE_NOUNS = [
  'Rendezvous', 'Diary', 'Promise', 'Holiday', 'Letter', 'Neighbor', 'Confession', 'Journey', 'Melody', 'Lesson',
  'Memories', 'Encounter', 'Weekend', 'Reunion', 'Dream', 'Heartbeat', 'Affair', 'Festival', 'Secretary', 'Muse',
] as const;

export const TITLE_PLACES = [
  'Shinjuku', 'Shibuya', 'Ginza', 'Kyoto', 'Osaka', 'Yokohama', 'Hakone', 'Nara', 'Kamakura', 'Sapporo',
  'the Seaside Inn', 'the Old Library', 'Room 302', 'the Last Train', 'the Rooftop', 'the Rainy Season',
] as const;

export const FEATURED_GROUPS = {
  home: { itemType: 'movie', size: 8 },
  trending: { itemType: 'movie', size: 10 },
  'new-releases': { itemType: 'movie', size: 6 },
  'actor-spotlight': { itemType: 'actor', size: 6 },
  'popular-tags': { itemType: 'tag', size: 8 },
} as const;
