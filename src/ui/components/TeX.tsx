import katex from 'katex';
import 'katex/dist/katex.min.css';

/** A formula rendered with KaTeX (the HTML is KaTeX's own output, from a constant TeX string). */
export function TeX({ tex, block = false }: { tex: string; block?: boolean }) {
  const html = katex.renderToString(tex, { throwOnError: false, displayMode: block, output: 'html' });
  return <span className={block ? 'tex block' : 'tex'} dangerouslySetInnerHTML={{ __html: html }} />;
}
