/* version.h - one version for the module, portald and portalctl: they
 * ship together and speak the same protocol. */
#ifndef PORTAL_VERSION_H
#define PORTAL_VERSION_H

#define PORTAL_VERSION "0.1.0"

#endif
