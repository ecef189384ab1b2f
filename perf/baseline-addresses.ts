/** The baseline build's cluster (--baseline) runs beside this one, on address ranges of its own. */
export const BASELINE_ADDRESSES = {
  nodeSubnet: '127.68.0.0/16',
  podCIDR: '127.69.0.0/16',
  serviceCIDR: '127.70.0.0/16',
  publicFrontends: '127.71.0.0/16',
};
