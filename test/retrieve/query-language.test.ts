import { describe, expect, it } from 'vitest';
import { findPlaces } from '../../src/retrieve/districts.ts';
import { holdsQuantity, isSmallTalk, normalizeQuestion, normalizeYears, questionIntent, sentenceTense } from '../../src/retrieve/query-language.ts';

describe('normalizeQuestion', () => {
  it('rewrites chat forms into written Mandarin', () => {
    expect(normalizeQuestion('武清那个大运河通航是咋安排的')).toBe('武清 大运河通航是怎么安排的');
    expect(normalizeQuestion('津南中医这块有啥打算没')).toBe('津南中医 有什么打算吗');
    expect(normalizeQuestion('武清23年固投预计涨多少')).toBe('武清2023年固投预计增长多少');
    expect(normalizeQuestion('一带两廊三轴 到底指的啥呀')).toBe('一带两廊三轴 指的什么');
  });

  it('reads two-digit and written-out years, but not counts of years', () => {
    expect(normalizeYears('武清18年和23年')).toBe('武清2018年和2023年');
    expect(normalizeYears('到二〇二五年')).toBe('到2025年');
    expect(normalizeYears('十四五末高企做到多少')).toBe('2025年高企做到多少');
    expect(normalizeYears('近10年来')).toBe('近10年来');
    expect(normalizeYears('10年内')).toBe('10年内');
    expect(normalizeYears('2023年')).toBe('2023年');
  });

  it('is idempotent', () => {
    for (const q of ['武清23年固投预计涨多少', '那看病这块呢 打算新盖啥医院？', '津南跟武清十四五垃圾分类覆盖率目标 一样不']) {
      expect(normalizeQuestion(normalizeQuestion(q))).toBe(normalizeQuestion(q));
    }
  });
});

describe('questionIntent', () => {
  const intent = (q: string) => questionIntent(normalizeQuestion(q));
  it('tells a target question from an achievement question', () => {
    expect(intent('津南研发投入强度十四五末目标多少').tense).toBe('plan');
    expect(intent('武清十四五打算改多少个老小区').tense).toBe('plan');
    expect(intent('十三五期间河北区PM2.5降了多少').tense).toBe('achievement');
    expect(intent('武清区2024年GDP实际增长了多少？').tense).toBe('achievement');
  });

  it('knows the kind of number asked for', () => {
    expect(intent('森林覆盖率目标是多少').quantity).toBe('percent');
    expect(intent('人均可支配收入要达到多少钱').quantity).toBe('money');
    expect(intent('地铁票价是多少').quantity).toBe('money');
    expect(intent('要建几所学校').quantity).toBe('count');
    expect(intent('哪几个镇要建卫生院').numeric).toBe(false);
    expect(intent('有啥政策').list).toBe(true);
  });

  it('sees comparisons written with 跟/和/与', () => {
    expect(intent('武清跟津南森林覆盖率目标各是多少').comparison).toBe(true);
    expect(intent('津南与武清垃圾分类目标一样吗').comparison).toBe(true);
    expect(findPlaces('武清跟津南森林覆盖率目标各是多少').districts.sort()).toEqual(['武清区', '津南区'].sort());
    expect(findPlaces('河北区与津南区').districts.sort()).toEqual(['河北区', '津南区'].sort());
  });
});

describe('sentenceTense and holdsQuantity', () => {
  it('reads a plan or a result from the sentence, then its section', () => {
    expect(sentenceTense('到2025年,研发支出与地区生产总值之比达6%', [])).toBe('plan');
    expect(sentenceTense('累计新增就业20万人以上', [])).toBe('achievement');
    expect(sentenceTense('空气质量持续改善', ['第一章 发展基础', '第一节 “十三五”时期发展成就'])).toBe('achievement');
    expect(sentenceTense('推进智慧校园建设', ['第五章 主要任务'])).toBe('plan');
  });

  it('does not count a year or a list mark as the number asked for', () => {
    expect(holdsQuantity('到2025年,实现居民人均可支配收入增长与经济增长基本同步')).toBe(false);
    expect(holdsQuantity('3. 推进改革')).toBe(false);
    expect(holdsQuantity('全区森林覆盖率达到18%', 'percent')).toBe(true);
    expect(holdsQuantity('引进项目1290个', 'percent')).toBe(false);
    expect(holdsQuantity('引进项目1290个', 'count')).toBe(true);
    expect(holdsQuantity('投资183亿元', 'money')).toBe(true);
  });
});

describe('small talk and places', () => {
  it('recognizes input that is not a question about the plans', () => {
    expect(isSmallTalk('你好')).toBe('greeting');
    expect(isSmallTalk('谢谢！')).toBe('thanks');
    expect(isSmallTalk('9')).toBe('not-chinese');
    expect(isSmallTalk('what is the forest target')).toBe('not-chinese');
    expect(isSmallTalk('你好，武清森林覆盖率多少')).toBeUndefined();
  });

  it('reads a city-level question as such, and a district question as a district one', () => {
    expect(findPlaces('天津市2025年森林覆盖率目标').cityLevel).toBe(true);
    expect(findPlaces('全市新增就业多少').cityLevel).toBe(true);
    expect(findPlaces('天津市武清区森林覆盖率').cityLevel).toBe(false);
    expect(findPlaces('武清去天津市区的地铁').cityLevel).toBe(false);
    expect(findPlaces('河北省的目标').otherRegion).toBe('河北省');
  });
});
