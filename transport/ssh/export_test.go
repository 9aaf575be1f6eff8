package ssh

// WithoutSFTPServer makes new SFTP clients use the server's own subsystem,
// as on a host where no sftp-server binary is where we look.
func WithoutSFTPServer() (restore func()) {
	old := sftpServers
	sftpServers = nil
	return func() { sftpServers = old }
}
