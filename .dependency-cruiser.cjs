// Which folder may import which: the layers of docs/architecture.md, checked by `npm run deps`.
// Known violations (the debt that remains) are listed in .dependency-cruiser-known-violations.json:
// a new one fails the check, and an entry there is removed as its import is fixed.
const base = '^lib/(loc|errors|package-root)\\.ts$|^lib/(os|types|util)/';
// What loading a gates file loads (the format and each step kind's schema), and the runtime it must not:
// steps/ is runtime except its schemas/ folder; the matcher's frame-waiting code needs wscat.
const gatesData = '^(lib/gates/|steps/schemas/)';
const runtime = '^(lib/(wscat|runner|os|evidence|reporters|record|cli|signoff|model-api)/|lib/matching/(exchange|expectations|late|matcher)\\.ts$|steps/(?!schemas/)|reference-server/)';
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'modules in an import circle cannot be understood or loaded alone', from: {}, to: { circular: true } },
    { name: 'base-is-leaf', severity: 'error', comment: 'locations, errors, os helpers, pure types and pure utilities import no feature folder', from: { path: base }, to: { path: '^(lib/(?!loc|errors|package-root|os/|types/|util/)|steps/|reference-server/)' } },
    { name: 'wscat-knows-only-os', severity: 'error', comment: 'the wscat layer knows processes, never gates, steps or results', from: { path: '^lib/wscat/' }, to: { path: '^(lib/(gates|matching|runner|steps|evidence|reporters|protocol|record|cli|signoff)/|steps/|reference-server/)' } },
    { name: 'gates-are-data', severity: 'error', comment: 'loading a gates file must not load the runtime (wscat, processes, runner, the run code of steps): the loader and the step schemas know only the schema registry of steps/schemas/', from: { path: gatesData }, to: { path: runtime } },
    { name: 'gates-reach-no-runtime', severity: 'error', comment: 'nor through another module: nothing a gates file loads reaches the runtime, however far down', from: { path: gatesData }, to: { path: runtime, reachable: true } },
    { name: 'reporters-read-results', severity: 'error', comment: 'reporters turn results into words: they never run anything', from: { path: '^lib/reporters/' }, to: { path: '^(lib/(wscat|runner|os|matching|record|cli|signoff)/|steps/|reference-server/)' } },
    { name: 'evidence-below-runtime', severity: 'error', comment: 'what a run leaves behind is written from data, not from live connections', from: { path: '^lib/evidence/' }, to: { path: '^(lib/(wscat|runner|matching|record|cli|signoff|reporters)/|steps/|reference-server/)' } },
    { name: 'only-cli-imports-cli', severity: 'error', comment: 'lib/cli is the top: nothing below it imports it, but a command of its own folder (lib/X/cli.ts) is declared with the shared command definition, flag table and Ctrl-C handling', from: { path: '^(lib/(?!cli/)|steps/|reference-server/)', pathNot: '^lib/[^/]+/cli\\.ts$' }, to: { path: '^lib/cli/' } },
    { name: 'commands-use-only-argv-helpers', severity: 'error', comment: 'a command of a feature folder may use the command definition, flag table, argv parsing and Ctrl-C handling of lib/cli, nothing else of it', from: { path: '^lib/[^/]+/cli\\.ts$', pathNot: '^lib/cli/' }, to: { path: '^lib/cli/', pathNot: '^lib/cli/(args|command|flags|interrupt)\\.ts$' } },
    { name: 'reference-server-is-a-stranger', severity: 'error', comment: 'the embedded server shares no code with the harness, or its self-test proves nothing', from: { path: '^reference-server/' }, to: { path: '^(lib|steps)/' } },
    { name: 'harness-does-not-import-test-code', severity: 'error', from: { path: '^(lib|steps|reference-server|bin)/' }, to: { path: '^(test|bench)/' } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsPreCompilationDeps: false,
    parser: 'swc',
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.cjs'] },
  },
};
