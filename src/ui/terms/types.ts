/** The glossary's types (glossary.ts assembles the entries from the files beside this one). */
export type TermId =
  // model and data
  | 'd' | 'n' | 'rows' | 'p' | 'embedDim' | 'hiddenWidth' | 'mlpWidths' | 'matfacWidths'
  | 'initSeed' | 'dataSeed' | 'trainFraction' | 'modOp'
  // training
  | 'optimizer' | 'learningRate' | 'weightDecay' | 'momentum' | 'batchSize' | 'lrSchedule'
  | 'trainSteps' | 'trainSeed' | 'evalEvery' | 'checkpointEvery'
  | 'crossEntropy' | 'mse' | 'accuracy' | 'trainAccuracy' | 'testAccuracy' | 'throughput'
  // behavioral loss, Hessian, spectrum
  | 'behavioralLoss' | 'klBehavioralLoss' | 'hessian' | 'hvp' | 'hk' | 'h1' | 'eps' | 'd1' | 'dFree' | 'llcBounds'
  | 'traceH' | 'slqDensity' | 'lanczosK' | 'spectrumMethod' | 'residual' | 'noiseFloor' | 'floorF32' | 'logGap' | 'defaultEps'
  | 'projection' | 'accuracyCutoff' | 'kStar' | 'epsStar' | 'zeroCountKStar' | 'kronecker' | 'eigLoading'
  // LLC
  | 'landscape' | 'landscapeC' | 'crossingK' | 'volume' | 'llcEps' | 'llcLimit' | 'multiplicity'
  | 'llcHat' | 'llcHatLandscape' | 'quadraticLlc' | 'rankBoundLlc'
  | 'stepSize' | 'gamma' | 'nBeta' | 'chains' | 'draws' | 'burnin' | 'sgldBatch' | 'sgldLoss'
  | 'initLoss' | 'fractionBelow' | 'mala' | 'calibrationGrid' | 'llcHealth' | 'llcCalibration'
  // internals: neurons and synchronization
  | 'layerWidth' | 'firingPattern' | 'firingFraction' | 'deadNeuron' | 'alwaysOnNeuron'
  | 'syncBlock' | 'largestBlock' | 'blockRank' | 'syncN' | 'syncDedup' | 'syncTol' | 'syncFraction' | 'eq17'
  // internals: Grams and predicted zeros
  | 'gramG' | 'gramK' | 'gramM' | 'blockParams' | 'gZeros' | 'kZeros' | 'fanOut' | 'fanIn' | 'overlap' | 'predictedZeros'
  // internals: interaction basis
  | 'interactionBasis' | 'rankG' | 'basisSize' | 'edgeStrength' | 'gini' | 'top10Share'
  // internals: Fourier
  | 'fourierNorm' | 'keyFrequency' | 'keyEnergyFraction' | 'circularity' | 'fourierCircuit';

export interface GlossaryEntry {
  /** Short label, as the UI shows the quantity by default. */
  label: string;
  /** One to three plain sentences. */
  definition: string;
  /** KaTeX TeX of the defining equation. */
  tex: string;
  /** Where it comes from: 'docs/science.md §3', 'degeneracy paper eq. 20', a source file… */
  source: string;
}
