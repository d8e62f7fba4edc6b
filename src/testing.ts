/** `breakwater/testing`: tools to test code that uses breakwater, without sleeping. */
export { testClock, type TestClock } from './testing/test-clock.js'
