import { describe, expect, it } from 'vitest';
import { rewriteFollowUp } from '../../src/answer/follow-up.ts';

describe('rewriteFollowUp', () => {
  it('leaves a question without history alone', () => {
    expect(rewriteFollowUp('武清区2025年森林覆盖率目标是多少？', [])).toBe('武清区2025年森林覆盖率目标是多少？');
  });

  it('swaps the district of the previous question for "那X呢"', () => {
    expect(rewriteFollowUp('那津南区呢？', [{ q: '武清区2025年森林覆盖率目标是多少?' }])).toBe('津南区2025年森林覆盖率目标是多少?');
    expect(rewriteFollowUp('那河北区呢', [{ q: '津南区会展经济有哪些重点项目?' }])).toBe('河北区会展经济有哪些重点项目?');
    expect(rewriteFollowUp('河北呢？', [{ q: '武清十四五要改造多少个老旧社区' }])).toBe('河北区十四五要改造多少个老旧社区');
  });

  it('looks past a greeting or thanks to the last real question', () => {
    expect(rewriteFollowUp('那津南区呢？', [{ q: '武清区2025年森林覆盖率目标是多少?' }, { q: '谢谢' }])).toBe('津南区2025年森林覆盖率目标是多少?');
  });

  it('swaps the year for "2023年呢"', () => {
    expect(rewriteFollowUp('2023年呢？', [{ q: '武清2018年新增就业目标是多少' }])).toBe('武清2023年新增就业目标是多少');
  });

  it('inherits district and period for a new topic', () => {
    const r = rewriteFollowUp('医院这块呢，要新建什么医院？', [{ q: '武清区十四五规划2025年要新增多少个学位？', answer: '…' }]);
    expect(r).toContain('武清区');
    expect(r).toContain('十四五');
    expect(r).toContain('要新建什么医院');
  });

  it('inherits the district named several turns back', () => {
    const r = rewriteFollowUp('养老床位呢', [{ q: '津南区养老设施有多少' }, { q: '日间照料中心有多少家' }]);
    expect(r.startsWith('津南区')).toBe(true);
  });

  it('keeps a question that names its own district', () => {
    expect(rewriteFollowUp('河北区诚信建设有哪些具体做法？', [{ q: '武清区2025年森林覆盖率目标是多少?' }])).toBe('河北区诚信建设有哪些具体做法？');
  });
});
