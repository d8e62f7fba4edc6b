// Lets `node --experimental-transform-types` run the TypeScript sources as they are: the sources
// import `./x.js` (NodeNext style) where only `./x.ts` exists, so resolve falls back to the .ts file.
import { registerHooks } from 'node:module'

registerHooks({
  resolve(specifier, context, nextResolve) {
    try {
      return nextResolve(specifier, context)
    } catch (error) {
      if (/^\.{1,2}\//.test(specifier) && specifier.endsWith('.js')) {
        return nextResolve(specifier.slice(0, -3) + '.ts', context)
      }
      throw error
    }
  },
})
