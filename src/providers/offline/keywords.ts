/**
 * Recognises scene themes in a prompt, in English and Russian. Words are matched whole, or by
 * prefix where an entry ends in `*`, so Russian endings (ночь, ночной, ночью) all count while
 * look-alikes (мороз is frost, not море) do not.
 */

export type Theme =
  | 'night'
  | 'sunset'
  | 'dawn'
  | 'day'
  | 'sea'
  | 'lake'
  | 'forest'
  | 'mountain'
  | 'winter'
  | 'desert'
  | 'autumn'
  | 'spring'
  | 'summer'
  | 'space'
  | 'aurora'
  | 'abstract';

const WORDS: Readonly<Record<Theme, readonly string[]>> = {
  night: ['night*', 'midnight', 'moon*', 'star', 'stars', 'starry', 'starlight', 'ноч*', 'полноч*', 'лун*', 'звезд*'],
  sunset: ['sunset*', 'dusk', 'evening*', 'twilight', 'golden', 'закат*', 'вечер*', 'сумер*', 'сумрак*'],
  dawn: ['dawn*', 'sunrise*', 'morning*', 'daybreak', 'рассвет*', 'восход*', 'утро', 'утра', 'утром', 'утрен*', 'заря', 'зари', 'зарей', 'зарев*'],
  day: ['day', 'daylight', 'noon', 'sunny', 'день', 'днем', 'полдень', 'солнечн*'],
  sea: ['sea', 'seas', 'seaside', 'seascape', 'ocean*', 'beach*', 'coast*', 'shore*', 'wave', 'waves',
    'море', 'моря', 'морю', 'морем', 'морск*', 'океан*', 'пляж*', 'побереж*', 'берег*', 'волн*'],
  lake: ['lake*', 'pond', 'river*', 'fjord*', 'озер*', 'озёр*', 'пруд*', 'река', 'реки', 'реке', 'реку', 'рекой', 'речк*', 'фьорд*'],
  forest: ['forest*', 'wood', 'woods', 'woodland*', 'tree', 'trees', 'pine*', 'taiga', 'jungle', 'лес', 'леса',
    'лесу', 'лесом', 'лесн*', 'леси*', 'дерев*', 'сосн*', 'ель', 'ели', 'елк*', 'елов*', 'ельник*', 'тайг*', 'бор', 'джунгл*'],
  mountain: ['mountain*', 'peak', 'peaks', 'alps', 'alpine', 'hill', 'hills', 'valley*', 'canyon*',
    'гор', 'гора', 'горы', 'горах', 'горн*', 'вершин*', 'альп*', 'холм*', 'долин*', 'каньон*'],
  winter: ['winter*', 'snow*', 'frost*', 'ice', 'icy', 'frozen', 'christmas', 'зим*', 'снег*', 'снеж*',
    'мороз*', 'лед', 'ледян*', 'иней', 'новогод*', 'рождеств*'],
  desert: ['desert*', 'dune', 'dunes', 'sand', 'sands', 'sahara', 'пустын*', 'дюн*', 'песок', 'песк*'],
  autumn: ['autumn*', 'fall', 'осен*', 'листопад*'],
  spring: ['spring*', 'blossom*', 'bloom*', 'cherry', 'sakura', 'flower*', 'весн*', 'весен*', 'цветы', 'цветов', 'цветущ*', 'цветени*', 'сакур*', 'вишн*'],
  summer: ['summer*', 'meadow*', 'field', 'fields', 'лето', 'летн*', 'лугу', 'луг', 'луга', 'поле', 'поля'],
  space: ['space', 'cosmos', 'cosmic', 'galaxy', 'galaxies', 'nebula*', 'planet*', 'universe', 'milky',
    'космос*', 'космич*', 'галакт*', 'туманност*', 'планет*', 'вселенн*', 'млечн*'],
  aurora: ['aurora*', 'northern', 'polar', 'сияни*', 'аврор*', 'полярн*'],
  abstract: ['abstract*', 'bokeh', 'pattern*', 'dream*', 'абстракт*', 'боке', 'узор*', 'мечт*', 'сон', 'сны', 'снов*'],
};

interface Matcher {
  readonly exact: ReadonlyMap<string, Theme>;
  readonly prefixes: readonly (readonly [string, Theme])[];
}

const MATCHER: Matcher = (() => {
  const exact = new Map<string, Theme>();
  const prefixes: [string, Theme][] = [];
  for (const [theme, words] of Object.entries(WORDS) as [Theme, readonly string[]][]) {
    for (const word of words) {
      const normal = normalize(word);
      if (normal.endsWith('*')) prefixes.push([normal.slice(0, -1), theme]);
      else exact.set(normal, theme);
    }
  }
  return { exact, prefixes };
})();

/** Lower case, and ё written as е: Russian text uses both spellings of the same word. */
function normalize(text: string): string {
  return text.toLowerCase().replaceAll('ё', 'е');
}

/** The themes a prompt mentions (an empty set for a prompt with none). */
export function findThemes(prompt: string): ReadonlySet<Theme> {
  const found = new Set<Theme>();
  for (const word of normalize(prompt).split(/[^\p{L}\p{N}]+/u)) {
    if (word.length === 0) continue;
    const theme = MATCHER.exact.get(word);
    if (theme !== undefined) found.add(theme);
    for (const [prefix, prefixTheme] of MATCHER.prefixes) {
      if (word.startsWith(prefix)) found.add(prefixTheme);
    }
  }
  return found;
}
