// Starts GraphiQL against this server's /graphql. A session token pasted into the headers tab
// as {"Authorization": "Bearer <token>"} is sent with every query.
(function () {
  var fetcher = GraphiQL.createFetcher({ url: window.location.origin + '/graphql' });
  var example = '# Published listings in Paris with their hosts and latest reviews.\n' +
    'query ListingPage {\n' +
    '  listings(filter: { city: "Paris" }, first: 5) {\n' +
    '    edges { node { id title nightlyPriceMinor currency ratingAvg\n' +
    '      host { displayName }\n' +
    '      reviews(first: 3) { edges { node { rating text author { displayName } } } } } }\n' +
    '    pageInfo { hasNextPage endCursor }\n' +
    '  }\n' +
    '}\n';
  var root = ReactDOM.createRoot(document.getElementById('graphiql'));
  root.render(React.createElement(GraphiQL, {
    fetcher: fetcher,
    defaultQuery: example,
    defaultEditorToolsVisibility: true,
  }));
})();
