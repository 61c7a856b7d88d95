/**
 * Whole lines that are not part of the document: web-site chrome around the text, the
 * document-metadata table of a government portal, and the table of contents (whose entries
 * would otherwise be read as a second copy of every heading).
 * Works on raw lines, before any other normalization, so patterns tolerate stray spaces.
 */

const SITE_CHROME: RegExp[] = [
  /^无障碍/,
  /简体\s*\|\s*繁体/,
  /长者模式/,
  /IE版本.*升级/,
  /^当前位置\s*[:：]/,
  /^分享到\s*[:：]?$/,
  /^【打印页面】|【关闭页面】$/,
  /^附件\s*[:：]\s*$/,
  /^来源\s*[:：]/, // "来源: 武清区人民政府办公室 发布时间: …" (the manifest records the issuer)
  /^\|\s*\S/, // "| 政策解读" related-link lists
  /^[^>]{1,20}(\s+>\s+[^>]{1,20}){2,}$/, // breadcrumb "政务公开 > 政府文件 > 区政府"
  /\d{4}年\d{1,2}月\d{1,2}日\s*星期[一二三四五六日天]$/, // portal header with today's date
];

// Keys of the portal's metadata table ("名 称 :", "索 引 号 :", …); compared with spaces removed.
const METADATA_KEYS = /^(名称|索引号|发布机构|发文机关|发文字号|文号|主题|主题分类|成文日期|发文日期|发布日期|有效性|行政规范性文件)[:：]/;

const DOT_LEADER = /…{2,}|\.{4,}|·{4,}|．{4,}/;

export function isDotLeaderLine(line: string): boolean {
  return DOT_LEADER.test(line);
}

function isMetadataKey(line: string): boolean {
  return METADATA_KEYS.test(line.replace(/\s+/g, ''));
}

function metadataValueIsEmpty(line: string): boolean {
  return /[:：]$/.test(line.replace(/\s+/g, ''));
}

/** Heading markers in a TOC entry; an entry continued on the next line starts without one. */
const TOC_ENTRY_START = /^(第\s*[一二三四五六七八九十百零〇\d]+\s*[章节篇]|序\s*言|前\s*言|附|专栏|[一二三四五六七八九十]+、)/;

/**
 * Returns, for each raw line, whether it is to be dropped. A dropped line's characters never
 * reach the normalized text, which quotableSpans() later uses to keep quotes from spanning them.
 */
export function dropLines(lines: readonly string[]): boolean[] {
  const trimmed = lines.map((l) => l.trim());
  const drop = trimmed.map((t) => t !== '' && SITE_CHROME.some((re) => re.test(t)));
  const nextNonBlank = (i: number): number => {
    for (let j = i + 1; j < trimmed.length; j++) if (trimmed[j] !== '') return j;
    return -1;
  };
  for (let i = 0; i < trimmed.length; i++) {
    const t = trimmed[i] ?? '';
    if (t === '') continue;
    if (isMetadataKey(t)) {
      drop[i] = true;
      // The value sits on the very next line ("发 布 机 构 :" / "天津市武清区人民政府"); a blank
      // line in between means the key had no value and what follows is document text.
      const v = trimmed[i + 1];
      if (metadataValueIsEmpty(t) && v !== undefined && v !== '' && !isMetadataKey(v) && v.length <= 120) drop[i + 1] = true;
      continue;
    }
    if (isDotLeaderLine(t)) {
      drop[i] = true;
      // "第一章 全面建成…,开启全面建设京津明珠幸福武清" / "新征程……6": the entry's first line
      // carries no leader, but the continuation line after it does.
      if (!TOC_ENTRY_START.test(t)) {
        for (let j = i - 1; j >= 0; j--) {
          const p = trimmed[j] ?? '';
          if (p === '') continue;
          if (!drop[j] && p.length <= 80 && !/[。；;]/.test(p)) drop[j] = true;
          break;
        }
      }
    }
  }
  // A lone page number between TOC entries is part of the TOC as well.
  for (let i = 0; i < trimmed.length; i++) {
    const t = trimmed[i] ?? '';
    if (!/^\d{1,3}$/.test(t)) continue;
    const prev = (() => {
      for (let j = i - 1; j >= 0; j--) if (trimmed[j] !== '') return j;
      return -1;
    })();
    const next = nextNonBlank(i);
    if (prev >= 0 && next >= 0 && isDotLeaderLine(trimmed[prev] ?? '') && isDotLeaderLine(trimmed[next] ?? '')) drop[i] = true;
  }
  return drop;
}
