/**
 * Owner of the query language: how people ask (colloquial verbs and particles, two-digit
 * years, question frames) and what they ask for (a target or an achievement, a number of
 * some kind, a list, a comparison). Retrieval, answers, digest topics, follow-ups and the
 * CLI read questions through this module only, so a word list exists once.
 *
 * Nothing here is fitted to particular questions: the lists are general Mandarin chat
 * usage and the plain vocabulary of Chinese government plans.
 */

/**
 * Chat forms rewritten into written Mandarin before anything else reads the question.
 * Order matters: longer forms first.
 */
const COLLOQUIAL: Array<[RegExp, string]> = [
  [/咋样|咋个样/g, '怎么样'],
  [/咋办/g, '怎么办'],
  [/咋|怎的|怎地/g, '怎么'],
  [/啥样/g, '什么样'],
  [/啥时候|啥时|几时/g, '什么时候'],
  [/为啥/g, '为什么'],
  [/啥/g, '什么'],
  [/涨幅/g, '增幅'],
  [/涨到/g, '提高到'],
  [/涨/g, '增长'],
  [/跌/g, '下降'],
  [/新盖|新修/g, '新建'],
  [/咱们|咱/g, ''],
  // Sentence-final particles and tags: "有啥打算没", "一样不", "到底指的啥呀".
  [/[啊呀吧呗嘛哈哦啦咯喽呐]+(?=[\s，,。？?！!]|$)/g, ''],
  [/(?<=[\u4e00-\u9fff])[没不](?=[\s？?。!！]*$)/g, '吗'],
  [/到底|究竟|来着|一下子?|大概|大约|左右的?/g, ''],
  [/那个|这个|那块|这块|那边|这边|那片|这片|那阵子?|那会儿?|那时候|的时候/g, ' '],
];

const CN_DIGITS: Record<string, string> = { 〇: '0', 零: '0', 一: '1', 二: '2', 三: '3', 四: '4', 五: '5', 六: '6', 七: '7', 八: '8', 九: '9' };

/**
 * Written-out and two-digit years as four digits: 23年 → 2023年, 二〇二五年 → 2025年,
 * 十四五末 → 2025年 (the plan's target year). A count of years (近10年, 10年来) is left alone.
 */
export function normalizeYears(text: string): string {
  return text
    .replace(/[二][〇零][一二三四五六七八九〇零]{2}(?=年)/g, (m) => [...m].map((c) => CN_DIGITS[c] ?? c).join(''))
    .replace(/(?<![\d.近前后每这几第多过满共整隔连]|过去)(1[0-9]|2[0-9]|3[0-5])(?=年(?![来内间以后前多度轻])|[、和跟与至到-]\d{2}年)/g, '20$1')
    .replace(/十四五(?:末|期末|结束时?)/g, '2025年')
    .replace(/十三五末|十三五期末/g, '十三五时期2020年');
}

/** The question in written Mandarin with four-digit years; full-width forms folded (NFKC). */
export function normalizeQuestion(question: string): string {
  let q = question.normalize('NFKC');
  q = normalizeYears(q);
  for (const [re, to] of COLLOQUIAL) q = q.replace(re, to);
  return q.replace(/\s+/g, ' ').trim();
}

/**
 * Phrases that frame a question but say nothing about its topic: they are cut out before
 * segmentation so they cannot glue onto topic words (三轴是, 镇要). Single characters that
 * also start or end plan words (会展, 能耗, 获得) are not here: they are dropped only when
 * jieba leaves them as words of their own (FRAME_WORDS, FUNCTION_CHARS).
 */
export const FRAME_PHRASES =
  /是多少|有多少|多少个|多少家|多少钱|多少|哪些|哪几个|哪几|哪个|哪里|哪儿|在哪|什么样|什么时候|是什么|什么|怎么样|怎么|如何|怎样|有没有|会不会|能不能|是不是|请问|一下|打算|准备|计划|想要|要达到|要到|达到|目标是|目标|定的|定了|要建|(?<![主重需纲只])要(?![求素点害闻道])|(?<=[成弄搞整建做当])个|几[个家所项条座名人件处次户]|这块|那块|方面|具体|分别|各自|主要|有关|相关|情况|说的|提的|上有|有何|规划里|规划中|规划|十四五|十三五|十五五|期间|时期|时候|预计|指的是|指的|一样吗|一样|区别|不同|吗|呢|么/g;

/** Question frames as jieba words: dropped from the topic when segmentation yields them. */
export const FRAME_WORDS = new Set([
  '多少', '哪些', '哪几', '哪个', '哪几个', '什么', '什么样', '怎么', '怎么样', '如何', '怎样', '是', '吗', '呢', '么', '请问', '一下', '打算', '准备',
  '要', '达到', '目标', '目标值', '要求', '计划', '规划', '这块', '那块', '方面', '具体', '分别', '各自', '主要', '有关', '相关', '情况', '说', '说的', '有', '有何',
  '里', '中', '几个', '几家', '几', '主打', '做法', '政策', '措施', '举措', '内容', '提出', '期间', '时期', '十四五', '十三五', '十五五',
  '那', '那么', '这', '这个', '那个', '还有', '以及', '和', '与', '及', '跟', '同', '的', '了', '在', '上', '对', '给', '把', '被', '让', '年', '到', '定', '定的', '各',
  '成', '样', '地方', '工作', '项目', '重点', '区里', '全区', '我区', '天津', '天津市', '想', '能', '会', '得', '预计', '实际', '一共', '总共', '现在', '以后', '接下来',
  '未来', '今后', '将来', '已经', '完成', '时候', '指', '叫', '用', '做', '弄', '整', '搞', '干', '拿', '当', '去', '来', '办', '招', '路子', '说法', '口号',
]);

/** Search tokens that every passage or no passage has: they only add noise to BM25. */
export const SEARCH_STOPWORDS: ReadonlySet<string> = new Set([
  '的', '了', '是', '在', '和', '与', '跟', '有', '要', '吗', '呢', '啊', '吧', '么', '什么', '多少', '哪些', '哪几个', '几个', '几家', '怎么', '如何', '怎样', '啥',
  '这块', '那块', '方面', '一下', '打算', '准备', '目标', '是多少', '有哪些', '说的', '主打', '具体', '做法', '分别', '各', '那', '这',
]);

/** Characters that are grammar, not topic; other single characters (券, 房, 水) count. */
export const FUNCTION_CHARS = /^[的了是在和与及跟同有把被让给对从向到为以等个发建做搞弄整干拿盖各成上中里那这其之而或也都就还又再将已很最更多少几年末想能会得要没吗呢么啊呀吧]$/;

/**
 * Everyday words and the words the plans use for the same thing, the plans' word first.
 * General usage, not tied to any one question: retrieval adds the plans' word to the topic
 * when a question has another of its group, and relevance counts a question word as
 * present when any word of its group is.
 */
export const SYNONYM_GROUPS: readonly (readonly string[])[] = [
  ['地区生产总值', 'gdp', '生产总值', '经济总量'],
  ['比重', '占比', '之比', '比例'],
  ['累计', '一共', '总共', '合计', '总计'],
  ['下降', '降了', '降低', '减少', '下降了'],
  ['增长', '增加', '提高', '提升', '增速'],
  ['居民', '老百姓', '群众', '市民'],
  ['老年人', '老人'],
  ['养老机构', '养老院', '敬老院'],
  ['医疗', '看病', '就医'],
  ['医院', '医疗机构'],
  ['学校', '中小学'],
  ['资金', '钱', '经费'],
  ['企业', '公司', '厂子'],
  ['研发', 'r&d', '研究与试验发展'],
  ['轨道交通', '地铁', '轻轨'],
  ['大气', '空气'],
  ['造林', '种树', '植树'],
  ['政务服务', '办事', '审批'],
  ['收入', '工资'],
  ['道路', '路'],
  ['住房', '房子'],
  ['示范', '样板', '标杆'],
  ['招商引资', '招商'],
  ['新建', '新开'],
  ['建成', '建完', '建好', '完工'],
  ['儿童', '小孩', '孩子', '娃'],
  ['入学', '上学'],
  ['就业', '找工作', '上班'],
  ['务工', '打工'],
  ['高校毕业生', '大学生'],
  ['供热', '供暖', '暖气'],
  ['供水', '自来水'],
  ['燃气', '煤气', '天然气'],
  ['交通拥堵', '堵车'],
  ['停车', '停车位', '车位'],
  ['农贸市场', '菜市场', '买菜'],
  ['电子商务', '网购', '电商'],
  ['社会治安', '治安'],
  ['住房价格', '房价'],
];

export function synonymsOf(word: string): readonly string[] {
  return SYNONYM_GROUPS.find((g) => g.includes(word)) ?? [word];
}

/** The five-year planning periods and their years. */
export type PlanPeriod = '十三五' | '十四五' | '十五五';
export const PLAN_PERIODS: Readonly<Record<PlanPeriod, readonly [number, number]>> = { 十三五: [2016, 2020], 十四五: [2021, 2025], 十五五: [2026, 2030] };

/** What the question asks the answer to be about in time: a plan's target or a result. */
export type Tense = 'plan' | 'achievement';

/** The kind of number a quantity question wants, by its unit. */
export type QuantityKind = 'percent' | 'money' | 'count' | 'area' | 'weight' | 'any';

export interface QuestionIntent {
  tense?: Tense;
  /** Asks for a quantity (多少, 几, 比例 …). */
  numeric: boolean;
  quantity?: QuantityKind;
  /** Asks for a list or a description (哪些, 有什么政策, 怎么做 …). */
  list: boolean;
  /** Compares sides (跟/和/与 … 各/分别/一样吗). */
  comparison: boolean;
  /** Asks when something happens. */
  when: boolean;
}

const PLAN_CUES = /十[四五]五|目标|计划|打算|准备|预计|预期|力争|要达到|要到|达到多少|到20\d\d年|将要|想要|想|定的|定了|以后|接下来|未来|今后|什么时候能|能不能|会不会|要(?!求|素|点|害|闻|道)/g;
const ACHIEVEMENT_CUES = /完成了?|实际|已经|已|建了|建成了|了多少|了几|十[一二三]五|过去|去年|前些年|那时|疫情那|实现了|取得|成效|成绩|达到了|增长了|下降了|引进了|接了|打了|种了|用了/g;

export function questionIntent(normalized: string): QuestionIntent {
  const plan = normalized.match(PLAN_CUES)?.length ?? 0;
  const done = normalized.match(ACHIEVEMENT_CUES)?.length ?? 0;
  // "怎么治/有哪些招" with no word of time asks what is to be done: a plan.
  const howTo = plan === 0 && done === 0 && /怎么|如何|怎样|办法|措施|举措|招/.test(normalized);
  const tense: Tense | undefined = plan > done || howTo ? 'plan' : done > plan ? 'achievement' : undefined;
  const numeric = /多少|(?<!哪)几[个家所项条万亿座名人件处次倍成年]|比例|比重|占比|[^效频]率(?!先)|增速|增幅|数量|规模|面积|金额|多大|多高|多长|多远|多重/.test(normalized);
  let quantity: QuantityKind | undefined;
  if (numeric) {
    // A change asked for without a unit (收入年均增长多少) is a rate, not a sum.
    if (/率|比例|比重|占比|增速|增幅|百分|年均|(?:增长|下降|提高|降低|减少)了?多少(?![元钱块万亿])/.test(normalized)) quantity = 'percent';
    else if (/多少钱|金额|资金|投资额|收入|多少.*[元块]|工资|[票房电水油地]价|价格|费用?/.test(normalized)) quantity = 'money';
    else if (/面积|多少亩|几亩|平方/.test(normalized)) quantity = 'area';
    else if (/多少吨|几吨|产量/.test(normalized)) quantity = 'weight';
    else if (/几[个家所项条座名人件处次]|多少[个家所项条座名人件处次户]/.test(normalized)) quantity = 'count';
    else quantity = 'any';
  }
  const list = !numeric && /哪些|哪几|有什么|什么样|做法|政策|措施|举措|怎么|如何|规划|内容|要求|机制|办法|路子|招/.test(normalized);
  const comparison = /[各分]别|各(?:是|有|要|建|降|增|为|自)|一样吗|一样|区别|不同|相比|比较|对比/.test(normalized);
  const when = /什么时候|哪年|哪一年|何时/.test(normalized);
  return { ...(tense ? { tense } : {}), numeric, ...(quantity ? { quantity } : {}), list, comparison, when };
}

/** Section headings of a review (results of past years) rather than a plan. */
const REVIEW_HEADING = /回顾|成就|成效|执行情况|完成情况|发展基础|过去五年|五年来|工作总结|主要成绩|取得|十三五.{0,4}(?:时期|期间)/;
const PLAN_HEADING = /目标|任务|安排|重点|展望|计划草案|主要预期|思路|愿景|举措|工作建议/;
const PLAN_SENTENCE = /到20\d\d年|力争|预计|将(?!近)|目标|确保|计划|拟|争取|规划建设/;
const ACHIEVEMENT_SENTENCE = /累计|已(?!经过)|完成了|建成了|实现了|达到了|五年来|过去五年|较上年|比上年|同比|年均增长|取得|荣获|获评|获得/;

/** Whether a sentence states a plan or a result, from its own words, then its section. */
export function sentenceTense(sentence: string, section: readonly string[]): Tense | undefined {
  const plan = PLAN_SENTENCE.test(sentence);
  const done = ACHIEVEMENT_SENTENCE.test(sentence);
  if (plan && !done) return 'plan';
  if (done && !plan) return 'achievement';
  for (let i = section.length - 1; i >= 0; i--) {
    const h = section[i]!;
    if (REVIEW_HEADING.test(h)) return 'achievement';
    if (PLAN_HEADING.test(h)) return 'plan';
  }
  return undefined;
}

const QUANTITY_UNITS: Record<Exclude<QuantityKind, 'any'>, RegExp> = {
  percent: /\d\s*(?:%|％|个百分点)|百分之/,
  money: /\d\s*(?:万元|亿元|元|千元)|[千万亿]元/,
  count: /\d\s*(?:[个家所项条座名人件处次户万亿]|余[个家所项条座名人件处]|多[个家所项条座名人件处])/,
  area: /\d\s*(?:万?亩|平方|公顷|km2|m2)/,
  weight: /\d\s*(?:万?吨|公斤|千克)/,
};

/**
 * Whether a text holds a number that can answer a quantity question: a number that is not
 * a year or a list mark, and of the asked kind when the question names one.
 */
export function holdsQuantity(text: string, kind: QuantityKind = 'any'): boolean {
  const stripped = text
    .replace(/(?<!\d)(?:19|20)\d{2}\s*年?/g, ' ')
    .replace(/第[一二三四五六七八九十\d]+[章节条]/g, ' ')
    .replace(/^\s*[\d一二三四五六七八九十]+[、.．]/, ' ');
  // Numbers in figures or in words (百分之八点二, 三所, 两万人).
  if (!/\d|百分之|[一二三四五六七八九十两百千万亿]+(?:点[〇零一二三四五六七八九]+)?[个家所项条座名人件处万亿倍成]/.test(stripped)) return false;
  if (kind === 'any') return true;
  return QUANTITY_UNITS[kind].test(stripped) || (kind === 'count' && /[一二三四五六七八九十两百]+[个家所项条座名件处]/.test(stripped));
}

/** Years a text names as four digits (2025年, 2018—2023). */
export function namedYears(text: string): number[] {
  return [...new Set([...text.matchAll(/(?<!\d)(19[5-9]\d|20\d{2})(?!\d)/g)].map((m) => Number(m[1])))];
}

/** Input that is not a question about the plans: greetings, thanks, a lone number or letters. */
export function isSmallTalk(question: string): 'greeting' | 'thanks' | 'not-chinese' | undefined {
  const q = question.normalize('NFKC').trim().replace(/[\s!！。.~～?？,，]+/g, '');
  if (/^(?:你好|您好|嗨|哈喽|hello|hi|hey|在吗|在不在|早上好|晚上好|下午好)+(?:呀|啊)?$/i.test(q)) return 'greeting';
  if (/^(?:谢谢|多谢|感谢|谢啦|thanks|thankyou|thx|好的|ok|okay|嗯+|哦+|收到|明白了?|知道了)+(?:你|您)?(?:了|啦)?$/i.test(q)) return 'thanks';
  if (!/[\u3400-\u9fff]/.test(q)) return 'not-chinese';
  return undefined;
}
