// SPDX-License-Identifier: GPL-3.0-or-later
#pragma once

#include "client/ProxyRegistry.h"

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;

namespace greygate {

// Adds or edits a proxy: a name, the address (host and port of its control API), TLS, and
// the admin token typed in or read from a token file (greygated's DBDIR/control.token, copied
// over). The pinned certificate fingerprint is shown, and can be forgotten so the next
// contact pins the new one. Validated as you type: OK stays off while anything is wrong and
// the reason is shown under the form.
class ProxyDialog : public QDialog
{
    Q_OBJECT

public:
    explicit ProxyDialog(QWidget *parent = nullptr);

    void setEndpoint(const ProxyEndpoint &endpoint, const QString &tokenFile);
    // The endpoint as entered (id kept from setEndpoint); the token read from the token file
    // when one is named.
    ProxyEndpoint endpoint() const;
    QString tokenFile() const;

    // Empty when the form is valid, else what to fix.
    QString validationError() const;

private:
    void validate();

    QString m_id;
    QByteArray m_pin;
    QLineEdit *m_name;
    QLineEdit *m_host;
    QSpinBox *m_port;
    QCheckBox *m_tls;
    QRadioButton *m_useToken;
    QRadioButton *m_useFile;
    QLineEdit *m_token;
    QLineEdit *m_tokenFile;
    QLabel *m_pinLabel;
    QLabel *m_error;
    QDialogButtonBox *m_buttons;
};

} // namespace greygate
