import { useStore } from '../../state/store';
import { countInBand } from '../linked';
import { fmt } from '../format';


/**
 * The linked selections every view shares, visible from any view: one neuron, one eigenvector,
 * a brushed band of eigenvalues / loss scales. Each can be cleared here; the views highlight them.
 */
export function SelectionBar() {
  const neuron = useStore((s) => s.neuron);
  const eigen = useStore((s) => s.eigen);
  const band = useStore((s) => s.band);
  const spectrum = useStore((s) => (s.spectrum && s.model && s.spectrumOf === s.model.name ? s.spectrum : null));
  const selectNeuron = useStore((s) => s.selectNeuron);
  const selectEigen = useStore((s) => s.selectEigen);
  const setBand = useStore((s) => s.setBand);
  const setView = useStore((s) => s.setView);
  if (!neuron && eigen === null && !band) return null;
  const h = spectrum && eigen !== null && eigen <= spectrum.eigenvalues.length ? spectrum.eigenvalues[eigen - 1] : null;
  const inBand = band && spectrum ? countInBand(spectrum.eigenvalues, band) : null;
  return (
    <div className="selection-bar" role="region" aria-label="Linked selection" data-testid="selection-bar">
      <strong>Linked selection</strong>
      {neuron && (
        <span data-testid="sel-neuron">
          neuron <button type="button" className="link-button" onClick={() => setView('internals')} title="show it in the Internals view">{neuron.layer} #{neuron.unit}</button>{' '}
          <button type="button" className="link-button" aria-label="clear the selected neuron" onClick={() => selectNeuron(null)}>✕</button>
        </span>
      )}
      {eigen !== null && (
        <span data-testid="sel-eigen">
          eigenvector <button type="button" className="link-button" onClick={() => setView('spectrum')} title="show it in the Spectrum view">k = {eigen}</button>{h !== null ? ` (h = ${fmt(h)})` : ''}{' '}
          <button type="button" className="link-button" aria-label="clear the selected eigenvector" onClick={() => selectEigen(null)}>✕</button>
        </span>
      )}
      {band && (
        <span data-testid="sel-band">
          band {fmt(band[0])} … {fmt(band[1])}{inBand !== null ? ` (${inBand.toLocaleString('en-US')} computed eigenvalues)` : ''}{' '}
          <button type="button" className="link-button" aria-label="clear the brushed band" onClick={() => setBand(null)}>✕</button>
        </span>
      )}
    </div>
  );
}
