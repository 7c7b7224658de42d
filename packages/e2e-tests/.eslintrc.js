module.exports = require('@backstage/cli/config/eslint-factory')(__dirname, {
  rules: {
    // Playwright's waitFor fails the test when the element never shows up.
    'jest/expect-expect': [
      'warn',
      { assertFunctionNames: ['expect', '**.waitFor'] },
    ],
  },
});
