/*
 * paths.h - where the programs find each other when nothing says
 * otherwise: the helper's socket (the module's socket= option, the socket
 * key of portald.conf) and portald.conf itself (portald -c, portalctl -c).
 */
#ifndef PORTAL_PATHS_H
#define PORTAL_PATHS_H

#define PORTAL_DEFAULT_SOCKET "/run/portald/portald.sock"
#define PORTAL_DEFAULT_CONFIG "/etc/portald/portald.conf"

#endif
