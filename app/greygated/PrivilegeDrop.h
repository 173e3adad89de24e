// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include <QString>
#include <sys/types.h>

namespace greygate {

// Started as root (to bind port 25 or 10023 from an init script), greygated runs as an
// unprivileged user once every socket is bound and the store is open, as postgrey does
// through Net::Server. Under systemd the unit starts it as User=greygate already, with
// CAP_NET_BIND_SERVICE as an ambient capability, and there is nothing to drop.
//
// prepare() runs before anything is bound, so a missing user refuses the start at once:
//   not root                -> nothing to drop; --user naming someone else is an error
//   root, --user=root       -> keeps root, warned
//   root, --user=NAME       -> NAME must exist
//   root, no --user         -> "greygate" when it exists; without it root is kept, with a
//                              warning on every start (a build tree or a test harness run
//                              as root; a package always has the user)
// It also makes sure the database directory belongs to that user (created for it when
// missing; an existing one owned by someone else is an error naming the chown to run),
// because greygated creates files there after the drop.
// apply() runs after start(): it hands the store's root-created files in the database
// directory to the user (regular files with one link, and its subdirectories such as the
// store's journal/, never through a symlink), then
// initgroups/setgid/setuid, and checks that root cannot be regained.
class PrivilegeDrop
{
public:
    bool prepare(const QString &user, const QString &dbDir, QString *error);
    bool apply(QString *error);

    bool willDrop() const { return m_drop; }
    bool keepsRoot() const { return m_keepRoot; }
    // Root kept because no --user was given and there is no greygate user to drop to.
    bool noUserToDropTo() const { return m_noUser; }
    QString userName() const { return m_name; }
    uid_t uid() const { return m_uid; }
    gid_t gid() const { return m_gid; }

private:
    bool prepareDbDir(QString *error);
    bool handOverFiles(QString *error);

    QString m_name;
    QString m_dbDir;
    uid_t m_uid = 0;
    gid_t m_gid = 0;
    bool m_drop = false;
    bool m_keepRoot = false;
    bool m_noUser = false;
};

} // namespace greygate
