// SPDX-License-Identifier: GPL-3.0-or-later
#include "PrivilegeDrop.h"

#include <QDir>
#include <QFileInfo>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace greygate {

using namespace Qt::StringLiterals;

namespace {

QString systemError()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

struct Account
{
    bool found = false;
    uid_t uid = 0;
    gid_t gid = 0;
    QString name;
};

// getpwnam_r/getpwuid_r: the logger's flusher thread already runs, so not the static ones.
// False only when the user database cannot be read; a missing user is found == false.
bool lookup(const QString *name, uid_t uid, Account *out, QString *error)
{
    long size = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(size_t(size > 0 ? size : 16384));
    struct passwd entry = {};
    struct passwd *result = nullptr;
    int rc = 0;
    for (int attempt = 0; attempt < 4; ++attempt) {
        rc = name ? ::getpwnam_r(name->toLocal8Bit().constData(), &entry, buffer.data(),
                                 buffer.size(), &result)
                  : ::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result);
        if (rc != ERANGE)
            break;
        buffer.resize(buffer.size() * 4);
    }
    if (rc != 0) {
        *error = u"cannot read the user database: " + QString::fromLocal8Bit(std::strerror(rc));
        return false;
    }
    if (result) {
        out->found = true;
        out->uid = result->pw_uid;
        out->gid = result->pw_gid;
        out->name = QString::fromLocal8Bit(result->pw_name);
    }
    return true;
}

QString ownerName(uid_t uid)
{
    QString ignored;
    Account a;
    lookup(nullptr, uid, &a, &ignored);
    if (a.found)
        return a.name;
    return u"uid " + QString::number(uid);
}

} // namespace

bool PrivilegeDrop::prepare(const QString &user, const QString &dbDir, QString *error)
{
    m_dbDir = dbDir;
    const uid_t euid = ::geteuid();
    if (euid != 0) {
        if (user.isEmpty())
            return true;
        Account a;
        if (!lookup(&user, 0, &a, error))
            return false;
        if (!a.found || a.uid != euid) {
            *error = u"--user=" + user + u": greygated runs as " + ownerName(euid) +
                     u" and cannot change users; start it as root, or leave --user out";
            return false;
        }
        return true;
    }
    if (user == u"root") {
        m_keepRoot = true; // explicit only: the caller warns
        return true;
    }
    m_name = user.isEmpty() ? u"greygate"_s : user;
    Account a;
    if (!lookup(&m_name, 0, &a, error))
        return false;
    if (!a.found) {
        if (user.isEmpty()) {
            // No greygate user: a build tree or a test harness run as root, never a package
            // (which creates the user). Root is kept, with a warning at every start.
            m_keepRoot = true;
            m_noUser = true;
            return true;
        }
        *error = u"--user=" + user + u": no such user";
        return false;
    }
    if (a.uid == 0) {
        *error = u"--user=" + m_name + u" has uid 0: that is root; say --user=root if meant";
        return false;
    }
    m_uid = a.uid;
    m_gid = a.gid;
    m_drop = true;
    return prepareDbDir(error);
}

bool PrivilegeDrop::prepareDbDir(QString *error)
{
    const QByteArray path = QFile::encodeName(m_dbDir);
    struct stat st = {};
    if (::stat(path.constData(), &st) != 0) {
        if (errno != ENOENT) {
            *error = u"--dbdir=" + m_dbDir + u": " + systemError();
            return false;
        }
        // Created for the user, so that the files the store and the statistics write after
        // the drop can be made; the parents stay root's.
        if (!QDir().mkpath(m_dbDir) || ::chown(path.constData(), m_uid, m_gid) != 0 ||
            ::chmod(path.constData(), 0750) != 0) {
            *error =
                u"cannot create --dbdir=" + m_dbDir + u" for " + m_name + u": " + systemError();
            return false;
        }
        return true;
    }
    if (!S_ISDIR(st.st_mode)) {
        *error = u"--dbdir=" + m_dbDir + u" is not a directory";
        return false;
    }
    if (st.st_uid != m_uid) {
        // Never chown a directory that may be shared (--dbdir=/var/lib by mistake): ask.
        *error = u"--dbdir=" + m_dbDir + u" belongs to " + ownerName(st.st_uid) +
                 u", but greygated runs as " + m_name +
                 u" once started and writes there: run chown " + m_name + u':' + m_name + u' ' +
                 m_dbDir + u" (or choose --user)";
        return false;
    }
    return true;
}

namespace {

// Hands dirFd's entries that root owns to uid:gid: regular files with one link, and the
// subdirectories (the store's journal/) down to `depth` levels. Every entry is opened
// without following a symlink and checked on its descriptor, so a link planted in the
// directory can never make root chown a file elsewhere.
bool handOver(int dirFd, const QString &path, uid_t uid, gid_t gid, int depth, int *budget,
              QString *error)
{
    DIR *dir = ::fdopendir(dirFd);
    if (!dir) {
        *error = path + u": " + systemError();
        ::close(dirFd);
        return false;
    }
    bool ok = true;
    while (struct dirent *e = ::readdir(dir)) {
        if (--*budget < 0) // bounded: the database directory holds a handful of files
            break;
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
            continue;
        const QString entry = path + u'/' + QFile::decodeName(e->d_name);
        const int fd = ::openat(::dirfd(dir), e->d_name,
                                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
            continue;
        struct stat st = {};
        if (::fstat(fd, &st) != 0 || st.st_uid != 0) {
            ::close(fd);
            continue;
        }
        if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
            if (::fchown(fd, uid, gid) != 0) {
                *error = u"cannot hand " + entry + u" over: " + systemError();
                ok = false;
            }
            ::close(fd);
        } else if (S_ISDIR(st.st_mode) && depth > 0) {
            if (::fchown(fd, uid, gid) != 0) {
                *error = u"cannot hand " + entry + u" over: " + systemError();
                ::close(fd);
                ok = false;
            } else {
                ok = handOver(fd, entry, uid, gid, depth - 1, budget, error); // closes fd
            }
        } else {
            ::close(fd);
        }
        if (!ok)
            break;
    }
    ::closedir(dir);
    return ok;
}

} // namespace

bool PrivilegeDrop::handOverFiles(QString *error)
{
    const int dirFd =
        ::open(QFile::encodeName(m_dbDir).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd < 0) {
        *error = u"--dbdir=" + m_dbDir + u": " + systemError();
        return false;
    }
    int budget = 10'000;
    return handOver(dirFd, m_dbDir, m_uid, m_gid, 2, &budget, error);
}

bool PrivilegeDrop::apply(QString *error)
{
    if (!m_drop)
        return true;
    if (!handOverFiles(error))
        return false;
    const QByteArray name = m_name.toLocal8Bit();
    if (::initgroups(name.constData(), m_gid) != 0) {
        *error = u"initgroups(" + m_name + u"): " + systemError();
        return false;
    }
    if (::setgid(m_gid) != 0) {
        *error = u"setgid(" + QString::number(m_gid) + u"): " + systemError();
        return false;
    }
    if (::setuid(m_uid) != 0) {
        *error = u"setuid(" + QString::number(m_uid) + u"): " + systemError();
        return false;
    }
    // Checked, not assumed: every id changed (glibc applies them to every thread), and root
    // cannot be taken back.
    if (::getuid() != m_uid || ::geteuid() != m_uid || ::getgid() != m_gid ||
        ::getegid() != m_gid) {
        *error = u"the user or group ids did not all change to " + m_name;
        return false;
    }
    if (::setuid(0) == 0 || ::seteuid(0) == 0) {
        *error = u"root could be regained after dropping to " + m_name;
        return false;
    }
    return true;
}

} // namespace greygate
