/** `breakwater/testing`: tools to test code that uses breakwater, without sleeping or a real provider. */
export { testClock, type TestClock } from './testing/test-clock.js'
export * from './testing/fake-provider/index.js'
