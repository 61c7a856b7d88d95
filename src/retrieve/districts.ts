/**
 * Owner of district names: Tianjin's districts, the short forms people type (武清 for
 * 武清区), and regions that are not districts of the corpus (河北省). Every stage that
 * reads or prints a district name asks this module.
 */

/** Tianjin's sixteen districts; 河北区 is one of them (not 河北省). */
export const TIANJIN_DISTRICTS = [
  '和平区', '河东区', '河西区', '南开区', '河北区', '红桥区', '东丽区', '西青区',
  '津南区', '北辰区', '武清区', '宝坻区', '宁河区', '静海区', '蓟州区', '滨海新区',
];

/**
 * Short forms that are safe to read as a district. Some are left out or guarded because
 * they are ordinary words or parts of names in the plans: 和平 (peace), 河东/河西
 * (河西务镇), 南开 (南开大学), 河北 (河北省, 京津冀).
 */
const SHORT_FORMS: Array<[RegExp, string]> = [
  [/武清/, '武清区'],
  [/津南/, '津南区'],
  [/东丽/, '东丽区'],
  [/西青/, '西青区'],
  [/北辰/, '北辰区'],
  [/宝坻/, '宝坻区'],
  [/宁河/, '宁河区'],
  [/静海/, '静海区'],
  [/蓟州|蓟县/, '蓟州区'],
  [/红桥/, '红桥区'],
  [/滨海新区|滨海/, '滨海新区'],
  [/河北(?![省])/, '河北区'],
  [/南开(?!大学)/, '南开区'],
  [/河西(?!务)/, '河西区'],
];

/** Regions outside Tianjin's districts that people may name; none is in the corpus. */
const OTHER_REGIONS =
  /河北省|(?:山东|山西|河南|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|湖北|湖南|广东|海南|四川|贵州|云南|陕西|甘肃|青海)省|北京市(?!场)|上海市(?!场)|重庆市(?!场)/;

/** The city as a whole: a question about it is not answered by one district's figure. */
const CITY_LEVEL = /(?:天津市|全市|天津)(?!市?[\u4e00-\u9fff]{0,3}区)/;

/** 武清区 → 武清, 滨海新区 → 滨海; a name without a suffix stays as it is. */
export function shortDistrictName(district: string): string {
  return district.replace(/(新区|区|县)$/, '');
}

/** Both forms of a district name, longest first, for cutting it out of a text. */
export function districtForms(district: string): string[] {
  const short = shortDistrictName(district);
  return short.length >= 2 && short !== district ? [district, short] : [district];
}

/** The district a user typed ("武清" or "武清区"), as `districts` names it. */
export function matchDistrictName(wanted: string, districts: readonly string[]): string | undefined {
  const w = wanted.trim();
  return districts.find((d) => d === w || shortDistrictName(d) === shortDistrictName(w));
}

export interface PlaceMentions {
  /** Districts named (full names), whether or not the corpus covers them. */
  districts: string[];
  /** A named region that is not a Tianjin district (e.g. 河北省). */
  otherRegion?: string;
  /** The question is about the city as a whole (天津市, 全市), naming no district. */
  cityLevel: boolean;
}

/** The districts and regions a text names; `known` adds the corpus's own districts. */
export function findPlaces(text: string, known: readonly string[] = []): PlaceMentions {
  // 京津冀 / 京冀 name the region, not the district 河北区.
  const q = text.replace(/京津冀|京冀|津冀/g, '　');
  const districts = new Set<string>();
  for (const d of [...TIANJIN_DISTRICTS, ...known]) if (q.includes(d)) districts.add(d);
  let rest = q;
  for (const d of districts) rest = rest.split(d).join('　');
  for (const [re, d] of SHORT_FORMS) if (re.test(rest)) districts.add(d);
  // Districts of documents added beyond Tianjin's: their short form counts unless a
  // province or city name continues it (X省, X市).
  for (const d of known) {
    if (TIANJIN_DISTRICTS.includes(d)) continue;
    const short = shortDistrictName(d.replace(/市$/, ''));
    if (short.length >= 2 && new RegExp(`${short}(?![省市])`).test(rest)) districts.add(d);
  }
  const other = q.match(OTHER_REGIONS)?.[0];
  return {
    districts: [...districts],
    ...(other && districts.size === 0 ? { otherRegion: other } : {}),
    cityLevel: districts.size === 0 && CITY_LEVEL.test(q),
  };
}

/** Removes every form of the given districts from a text (for topic words). */
export function withoutDistricts(text: string, districts: readonly string[]): string {
  let out = text;
  for (const d of [...districts].sort((a, b) => b.length - a.length)) for (const f of districtForms(d)) out = out.split(f).join(' ');
  return out;
}
