// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "protocol/ProtocolError.h"

#include <QDialog>
#include <QHash>
#include <QJsonObject>

class QCheckBox;
class QComboBox;
class QDateTimeEdit;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;

namespace greygate {

// Creates or edits a policy: every field of docs/policies.md's model (narrative, action,
// Emails From with its basis, Emails To, enabled, validity, override, bi-directional, source
// ranges), validated as you type with the problem shown under its field. Saving does not
// close the dialog: it emits submitRequested(policy) and the page sends it (policy.create,
// or policy.update with the version the edit started from); the page then calls
// submitSucceeded(), or showServerError() (the proxy's validation error on its field), or
// showConflict() when someone else changed the policy meanwhile. A conflict never loses the
// admin's edits: they stay in the form, the other change is described, and "Reapply my
// changes" moves the edit onto the new version (or "Take theirs" loads it instead).
class PolicyDialog : public QDialog
{
    Q_OBJECT

public:
    explicit PolicyDialog(QWidget *parent = nullptr);

    // Group names offered for a "group" specifier.
    void setGroupNames(const QStringList &names);
    // An existing policy (its JSON as the proxy gives it); without one, a new policy.
    void setPolicy(const QJsonObject &policy);
    // The policy as entered, in the proxy's JSON form (id and version when editing).
    QJsonObject policy() const;
    bool isNew() const { return m_id == 0; }
    qint64 version() const { return m_version; }

    // Field name ("from.value", "sourceRanges") -> the problem; empty when valid.
    QHash<QString, QString> validationErrors() const;
    // The error shown under a field now (client-side or the server's).
    QString fieldError(const QString &field) const;

    void submitSucceeded();
    void showServerError(const protocol::ProtocolError &error);
    // `latest` is the policy as it is now on the proxy.
    void showConflict(const QJsonObject &latest);
    bool conflictShown() const;
    // The two ways out of a conflict (the banner's buttons).
    void reapplyOnLatest();
    void takeLatest();

    // Field name for a server error path ("params.policy.sourceRanges[1]" -> "sourceRanges").
    static QString fieldForPath(const QString &path);

Q_SIGNALS:
    void submitRequested(const QJsonObject &policy);
    // "Replay changes": what the table with this policy as entered would change on the
    // recorded traffic (the page opens a ReplayDialog); nothing is saved.
    void replayRequested(const QJsonObject &policy);

public Q_SLOTS:
    void accept() override;

private:
    struct SpecifierEditor
    {
        QComboBox *type = nullptr;
        QComboBox *value = nullptr; // editable: a domain, an address or a group's name
        QCheckBox *subdomains = nullptr;
        QComboBox *basedOn = nullptr; // From only
    };

    QWidget *buildSpecifier(SpecifierEditor &editor, const QString &prefix, bool from);
    void validate();
    void setFieldError(const QString &field, const QString &error, bool fromServer);
    void updateSpecifierWidgets(SpecifierEditor &editor);
    QJsonObject specifierJson(const SpecifierEditor &editor, bool from) const;
    void setSpecifier(SpecifierEditor &editor, const QJsonObject &json);
    QString specifierError(const SpecifierEditor &editor) const;

    qint64 m_id = 0;
    qint64 m_version = 0;
    QJsonObject m_readOnly; // updatedAt, updatedBy: shown, sent back as they came
    QJsonObject m_latest;   // the proxy's version during a conflict
    QStringList m_groups;
    QLineEdit *m_narrative;
    QComboBox *m_action;
    SpecifierEditor m_from;
    SpecifierEditor m_to;
    QCheckBox *m_enabled;
    QCheckBox *m_hasStart;
    QDateTimeEdit *m_start;
    QCheckBox *m_hasEnd;
    QDateTimeEdit *m_end;
    QCheckBox *m_override;
    QCheckBox *m_bidirectional;
    QCheckBox *m_shadow; // mode "shadow": evaluated and recorded, never acting
    QPlainTextEdit *m_ranges;
    QLabel *m_header;
    QWidget *m_conflict;
    QLabel *m_conflictText;
    QLabel *m_generalError;
    QDialogButtonBox *m_buttons;
    QHash<QString, QLabel *> m_errorLabels;
    QHash<QString, QString> m_serverErrors;
    bool m_busy = false;
};

} // namespace greygate
