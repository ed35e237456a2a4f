/* Sphinx's search scores, with one change: the glossary's index entries rank just
   below a concept page's own entry for the same words. Every glossary term is an
   index entry, which outscores any title, so without this the glossary would be
   the first result for "dual number" or "Jacobian"; with it, the page that teaches
   the concept comes first and the glossary's definition second. The numbers are
   Sphinx's defaults (sphinx/themes/basic/static/searchtools.js). */
var Scorer = {
  score: (result) => {
    const [docname, , , , score, , kind] = result;
    return docname === "reference/glossary" && kind === "index" ? score - 10 : score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: {
    0: 15,
    1: 5,
    2: -5,
  },
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2,
};
