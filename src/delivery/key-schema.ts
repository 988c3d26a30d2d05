/**
 * Whether a business-key path (`MaHoSo`, `hoSo.ma`) can name a field of bodies a route's request schema
 * accepts: walked through `items` (a record list), local `$ref`s and `properties`. Only a sure mismatch is
 * a problem (a property the schema does not declare where it allows no others); anything the walk cannot
 * read (`allOf`, remote refs, pattern properties) is given the benefit of the doubt.
 */
export function keyPathProblem(schema: unknown, path: string): string | undefined {
  let node = resolve(schema, schema);
  for (const segment of path.split('.')) {
    node = resolve(schema, node);
    while (node && (node.type === 'array' || node.items !== undefined) && node.properties === undefined) {
      node = resolve(schema, node.items);
    }
    if (!node) return undefined;
    const properties = node.properties as Record<string, unknown> | undefined;
    if (properties === undefined) return undefined;
    if (!Object.hasOwn(properties, segment)) {
      if (node.additionalProperties === false && node.patternProperties === undefined) {
        return `the request schema has no field "${segment}" (of ${path}); it has: ${Object.keys(properties).join(', ')}`;
      }
      return undefined;
    }
    node = resolve(schema, properties[segment]);
  }
  const type = node?.type;
  if (type === 'object' || type === 'array')
    return `${path} is ${type === 'object' ? 'an object' : 'an array'} in the request schema, not a key (a string or a number)`;
  return undefined;
}

type Node = Record<string, unknown>;

/** A local `$ref` (`#/definitions/X`, `#/$defs/X`) followed; anything else as it is. */
function resolve(root: unknown, value: unknown): Node | undefined {
  let node = value;
  for (let hops = 0; hops < 16 && isNode(node) && typeof node.$ref === 'string'; hops++) {
    const ref = node.$ref;
    if (!ref.startsWith('#/')) return undefined;
    node = ref
      .slice(2)
      .split('/')
      .reduce<unknown>((at, key) => (isNode(at) ? at[key.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined), root);
  }
  return isNode(node) ? node : undefined;
}

function isNode(value: unknown): value is Node {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
